/// Device times of one launch sequence per phase, from OpenCL event profiling.
///
/// Each phase's time is the sum of its commands' device times (start to end); commands on
/// different queues may overlap, so the phases may add up to more than ``span``.
package struct PhaseTimes: Sendable, Equatable {
    /// One phase's share.
    package struct Phase: Sendable, Equatable {
        /// The phase's name (``PipelinePhase``'s raw value: `upload`, `plan`, `keys`, …).
        package let name: String
        /// Seconds of device time of the phase's commands.
        package let seconds: Double
        /// The number of commands.
        package let commands: Int
    }

    /// The phases that ran, in the order of ``PipelinePhase``.
    package let phases: [Phase]
    /// Per phase and command (a kernel's name, `fill` or `transfer`): seconds of device time
    /// and launches, in the order of ``phases`` then of first launch.
    package let commands: [Command]

    /// One command's share of a phase.
    package struct Command: Sendable, Equatable {
        package let phase: String
        /// A kernel's name, `fill` or `transfer`.
        package let command: String
        package let seconds: Double
        package let launches: Int
    }
    /// Seconds from the first command's start to the last command's end.
    package let span: Double

    /// The times of `events`, all complete and from profiling queues.
    ///
    /// - Throws: ``OpenCLError`` from `clGetEventProfilingInfo`.
    init(_ events: [ProfiledCommand]) throws(OpenCLError) {
        var nanoseconds: [PipelinePhase: (total: UInt64, commands: Int)] = [:]
        var perCommand: [String: (phase: PipelinePhase, total: UInt64, launches: Int, order: Int)] = [:]
        var first = UInt64.max, last = UInt64.zero
        for (index, profiled) in events.enumerated() {
            let phase = profiled.phase
            let start = try profiled.event.profilingTime(.started), end = try profiled.event.profilingTime(.ended)
            let duration = end >= start ? end - start : 0
            let entry = nanoseconds[phase, default: (0, 0)]
            nanoseconds[phase] = (entry.total + duration, entry.commands + 1)
            let key = "\(phase.rawValue)/\(profiled.command)"
            let command = perCommand[key, default: (phase, 0, 0, index)]
            perCommand[key] = (phase, command.total + duration, command.launches + 1, command.order)
            first = min(first, start)
            last = max(last, end)
        }
        let phaseOrder = Dictionary(uniqueKeysWithValues: PipelinePhase.allCases.enumerated().map { ($1, $0) })
        commands = perCommand.sorted { a, b in
            (phaseOrder[a.value.phase]!, a.value.order) < (phaseOrder[b.value.phase]!, b.value.order)
        }.map { key, value in
            Command(
                phase: value.phase.rawValue, command: String(key.dropFirst(value.phase.rawValue.count + 1)),
                seconds: Double(value.total) * 1e-9, launches: value.launches)
        }
        phases = PipelinePhase.allCases.compactMap { phase in
            nanoseconds[phase].map { Phase(name: phase.rawValue, seconds: Double($0.total) * 1e-9, commands: $0.commands) }
        }
        span = last > first ? Double(last - first) * 1e-9 : 0
    }

    /// One line per phase, milliseconds with three decimals, and the span.
    package var lines: [String] {
        phases.map { "\($0.name): \(Self.milliseconds($0.seconds)) ms (\($0.commands) commands)" }
            + ["span: \(Self.milliseconds(span)) ms"]
    }

    /// One line per phase and command, milliseconds with three decimals.
    package var commandLines: [String] {
        commands.map { "\($0.phase) \($0.command): \(Self.milliseconds($0.seconds)) ms (\($0.launches)×)" }
    }

    private static func milliseconds(_ seconds: Double) -> String {
        let thousandths = Int((seconds * 1e6).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

extension OpenCLPipeline {
    /// Runs `body` with profiling queues, and gives the device time of every phase of the
    /// commands it enqueued.
    ///
    /// - Throws: `body`'s error, or ``OpenCLError`` from creating the queues or reading the
    ///   profiling times.
    func profiled<R>(_ body: () throws(OpenCLError) -> R) throws(OpenCLError) -> (R, PhaseTimes) {
        let profiling: PipelineQueue
        if let existing = profilingQueue {
            profiling = existing
        } else {
            profiling = try PipelineQueue(context: context, profiling: true)
            profilingQueue = profiling
        }
        queue = profiling
        defer { queue = plainQueue }
        _ = profiling.takeEvents()
        let result = try body()
        try profiling.queue.finish()
        try profiling.transfer.finish()
        return (result, try PhaseTimes(profiling.takeEvents()))
    }
}
