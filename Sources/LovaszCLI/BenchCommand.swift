import ArgumentParser
import Foundation
import Lovasz
import LovaszWorkloads

/// `lovasz bench`: loss + gradient throughput on the standard workloads, per backend.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time loss + gradient on the standard workloads (or on .npy files), per backend.",
        discussion: """
            Each measurement makes warm-up calls, then --repeat timed calls of the engine's \
            zero-copy compute into one preallocated gradient buffer, and reports the median and \
            minimum milliseconds per call, segment-elements per second (segment-elements = the \
            sum over (group, counted class) segments of the group's valid pixels) and the peak \
            resident memory (VmHWM, reset before each measurement; once OpenCL has been \
            probed, as --backend all, auto and opencl do, it includes the OpenCL runtime's own \
            memory). On OpenCL, "zero-copy ms" times the engine's compute on device buffers \
            (the inputs copied to the device once, the gradient left there): what training code \
            whose tensors live in OpenCL pays. Progress goes to stderr.

            Workloads (--workload, default: all of them):
            \(BenchWorkload.standard.map(BenchCommand.helpLine).joined(separator: "\n"))

            Data (--data): random = \(BenchDataModel.random.summary); trained = \
            \(BenchDataModel.trained.summary) (a confident network).

            With --scores S.npy --labels Y.npy the files are timed instead, with the loss \
            options below. --memory reports the peak resident memory against the budget of \
            \(Int(BenchReport.memoryBudgetFactor))x (scores + gradient) bytes, by default on \
            the voc workload and the CPU backend, and exits with status 1 if a measurement \
            exceeds it.

            Exit status: 0 on success (a backend that cannot run is skipped with the reason); \
            2 for bad input; 3 when --backend opencl was asked for and OpenCL cannot be used.

            Examples: lovasz bench --workload voc --data random
                      lovasz bench --size small --json
                      lovasz bench --scores logits.npy --labels labels.npy --repeat 10
            """
    )

    /// The data models `--data` selects.
    enum DataSelection: String, ExpressibleByArgument, CaseIterable {
        case random, trained, both
        var models: [BenchDataModel] { self == .both ? BenchDataModel.allCases : [self == .random ? .random : .trained] }
    }

    /// The sizes `--size` selects.
    enum SizeSelection: String, ExpressibleByArgument, CaseIterable {
        case standard, small, tiny
        var size: BenchSize {
            switch self {
            case .standard: return .standard
            case .small: return .small
            case .tiny: return .tiny
            }
        }
    }

    @Option(help: "cpu, opencl (any OpenCL device; status 3 if unusable), auto (what the engine picks), or all (the CPU, and OpenCL when auto would use a GPU). (default: all; cpu with --memory)")
    var backend: BenchBackendSelection?

    @Option(
        name: .customLong("workload"), parsing: .upToNextOption,
        help: ArgumentHelp("Standard workloads to time (listed above). (default: all; voc with --memory)", valueName: "name"))
    var workloads: [String] = []

    @Option(help: "The data model: random, trained or both. (default: both)")
    var data: DataSelection?

    @Option(help: "standard shapes, small (spatial dimensions / 4) or tiny (at most 2 images, spatial / 32). (default: standard)")
    var size: SizeSelection?

    @Option(help: "Timed calls per measurement (at least 1).")
    var `repeat` = 5

    @Option(help: "Untimed warm-up calls before the timed ones.")
    var warmup = 1

    @Option(help: "CPU threads per call. (default: every processor)")
    var threads: Int?

    @Option(
        name: .customLong("alternate-threads"),
        help: ArgumentHelp(
            "Time two CPU thread counts in one process, in alternating turns of calls (A B, B A, ...), and report how many times faster B ran than A: the median over pairs of neighbouring turns of their median times (CPU backend only; --repeat calls of each).",
            valueName: "A,B"))
    var alternateThreads: BenchThreadPair?

    @Option(help: "The seed of the generated data.")
    var seed: UInt64 = 2018

    @Flag(help: "On OpenCL, also report the device time of each phase of one call on host arrays (event profiling): upload, plan, keys, sort, scan+gradient, backpropagation, download; and of one zero-copy call (no upload or download). LOVASZ_TRACE=1 prints them for every host-array call.")
    var phases = false

    @Flag(help: "Print one JSON object (machine, settings, results, skipped) instead of the table.")
    var json = false

    @Flag(help: "Report peak resident memory against the 3x (scores + gradient) budget; exit 1 if exceeded.")
    var memory = false

    @Flag(help: "List the standard workloads and exit.")
    var list = false

    @Option(help: ArgumentHelp("Time these scores (float32 .npy) instead of the standard workloads.", valueName: "S.npy"))
    var scores: String?

    @Option(help: ArgumentHelp("The labels for --scores (.npy of any integer dtype).", valueName: "Y.npy"))
    var labels: String?

    @OptionGroup(title: "Loss options (with --scores)")
    var lossArguments: LossOptionArguments

    func validate() throws {
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if alternateThreads != nil {
            guard threads == nil else { throw ValidationError("--alternate-threads sets the thread counts; leave out --threads") }
            guard backend == nil || backend == .cpu else { throw ValidationError("--alternate-threads times the CPU backend only") }
            guard !memory else { throw ValidationError("--memory measures one engine at a time; leave out --alternate-threads") }
        }
        if let unknown = workloads.first(where: { BenchWorkload.named($0) == nil }) {
            let names = BenchWorkload.standard.map(\.name).joined(separator: ", ")
            throw ValidationError("unknown workload '\(unknown)'; the workloads are \(names)")
        }
        switch (scores, labels) {
        case (nil, nil):
            guard lossArguments.isEmpty else {
                throw ValidationError("the loss options apply to --scores/--labels; the standard workloads fix their own")
            }
        case (.some, .some):
            guard workloads.isEmpty, data == nil, size == nil else {
                throw ValidationError("--workload, --data and --size do not apply to --scores/--labels")
            }
        default:
            throw ValidationError("--scores and --labels go together")
        }
    }

    func run() throws {
        if list {
            for workload in BenchWorkload.standard { print("\(workload.name): \(workload.summary)") }
            return
        }
        let report = try measureAll()
        print(json ? try report.json() : report.table(memory: memory))
        if memory, let over = report.results.first(where: { $0.withinMemoryBudget == false }) {
            let peak = String(format: "%.1f", over.peakRSSMiB ?? 0), budget = String(format: "%.1f", over.memoryBudgetMiB)
            throw CommandFailure(
                status: ExitStatus.failure,
                message: "\(over.workload) (\(over.data), \(over.backend)): peak resident memory \(peak) MiB "
                    + "exceeds the budget of \(budget) MiB (3x scores + gradient)")
        }
    }

    /// Plans the backends, then prepares each case and measures it on each backend.
    private func measureAll() throws(CommandFailure) -> BenchReport {
        let plan = try BenchBackendPlan(backend ?? (memory || alternateThreads != nil ? .cpu : .all), threads: threads)
        var report = BenchReport(
            machine: .init(
                processors: ProcessInfo.processInfo.activeProcessorCount, processorModel: Self.processorModel(),
                loadAverage: Self.loadAverage()),
            settings: .init(size: (size ?? .standard).rawValue, seed: seed, warmup: warmup, repeat: `repeat`, threads: threads))
        report.skipped = plan.skipped
        for skip in plan.skipped { StandardError.print("lovasz bench: \(skip.backend): skipped: \(skip.reason)") }

        let sources = caseSources()
        let total = sources.count * plan.choices.count
        var index = 0
        var unavailable = Set<String>()
        for source in sources {
            let benchCase = try source.prepare()
            for choice in plan.choices {
                index += 1
                let label = "[\(index)/\(total)] \(benchCase.workload) \(benchCase.data) \(choice.rawValue)"
                if unavailable.contains(choice.rawValue) { continue }
                if let alternateThreads {
                    report.results += try measureAlternating(benchCase, threads: alternateThreads, label: label)
                    continue
                }
                StandardError.print(
                    "lovasz bench \(label): \(benchCase.shape.bracketed), "
                        + "\(warmup) warm-up + \(`repeat`) timed calls")
                do {
                    let measurement = try BenchRunner.measure(
                        benchCase, backend: choice, threads: threads, warmup: warmup, repeat: `repeat`, phases: phases)
                    let record = BenchRecord(benchCase, measurement, warmup: warmup, repeat: `repeat`)
                    StandardError.print("lovasz bench \(label): median \(String(format: "%.2f", record.medianMilliseconds)) ms")
                    report.results.append(record)
                } catch {
                    switch error {
                    case .openCLUnavailable, .openCL:
                        guard plan.choices.count > 1 else {
                            throw CommandFailure(status: ExitStatus.openCLUnavailable, message: error.description)
                        }
                        unavailable.insert(choice.rawValue)
                        report.skipped.append(BenchSkip(backend: choice.rawValue, reason: error.description))
                        StandardError.print("lovasz bench \(label): skipped: \(error)")
                    default:
                        throw .badInput("\(benchCase.workload): \(error)")
                    }
                }
            }
        }
        return report
    }

    /// The two records of `benchCase` timed on both thread counts of `threads`, calls alternating.
    private func measureAlternating(
        _ benchCase: BenchCase, threads: BenchThreadPair, label: String
    ) throws(CommandFailure) -> [BenchRecord] {
        StandardError.print(
            "lovasz bench \(label): \(benchCase.shape.bracketed), threads \(threads.first) and \(threads.second) "
                + "alternating, \(warmup) warm-up + \(`repeat`) timed calls each")
        let alternation: BenchAlternation
        do {
            alternation = try BenchRunner.measureAlternating(benchCase, threads: threads, warmup: warmup, repeat: `repeat`)
        } catch {
            throw .badInput("\(benchCase.workload): \(error)")
        }
        let summary = BenchAlternationRecord(
            threads: [threads.first, threads.second], callsPerTurn: BenchRunner.callsPerTurn,
            turns: alternation.turnRatios.count, medianTurnRatio: alternation.medianTurnRatio)
        let records = [alternation.first, alternation.second].map { measurement in
            var record = BenchRecord(benchCase, measurement, warmup: warmup, repeat: `repeat`)
            record.alternation = summary
            return record
        }
        StandardError.print(
            "lovasz bench \(label): medians \(String(format: "%.2f", records[0].medianMilliseconds)) ms (\(threads.first)) and "
                + "\(String(format: "%.2f", records[1].medianMilliseconds)) ms (\(threads.second)); "
                + "\(threads.second) \(String(format: "%.2f", summary.medianTurnRatio))x as fast, turn by turn")
        return records
    }

    /// The cases to time, in order.
    private func caseSources() -> [BenchCaseSource] {
        if let scores, let labels {
            return [.files(scores: scores, labels: labels, loss: lossArguments)]
        }
        let names = workloads.isEmpty ? (memory ? ["voc"] : BenchWorkload.standard.map(\.name)) : workloads
        let size = (size ?? .standard).size
        return names.compactMap { BenchWorkload.named($0)?.scaled(size) }.flatMap { workload in
            (data ?? .both).models.map { BenchCaseSource.generated(workload, $0, seed: seed) }
        }
    }

    /// `  voc-per-image         softmax 8x21x321x321, present classes, per image`.
    static func helpLine(_ workload: BenchWorkload) -> String {
        let name = workload.name.padding(toLength: 22, withPad: " ", startingAt: 0)
        var classes = ""
        if workload.options.loss == .softmax {
            classes = workload.options.classes == .all ? ", all classes" : ", present classes"
        }
        return "  \(name)\(workload.options.loss.rawValue) \(workload.dimensions)\(classes), per \(workload.options.perImage ? "image" : "batch")"
    }

    /// The first processor's `model name` in `/proc/cpuinfo` (whitespace runs folded), with its
    /// `cpu family` and `model` numbers where given (virtual machines often show a generic name),
    /// or nil where there is no model name.
    static func processorModel(cpuinfo path: String = "/proc/cpuinfo") -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy(\.isWhitespace) && !fields.isEmpty { break }  // the end of the first processor
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = parts[1].split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        }
        guard let name = fields["model name"], !name.isEmpty else { return nil }
        guard let family = fields["cpu family"], let model = fields["model"], !family.isEmpty, !model.isEmpty else { return name }
        return "\(name), family \(family) model \(model)"
    }

    /// The 1, 5 and 15 minute load averages, or none where the system does not say.
    static func loadAverage() -> [Double] {
        var loads = [Double](repeating: 0, count: 3)
        let count = getloadavg(&loads, 3)
        return count > 0 ? Array(loads.prefix(Int(count))) : []
    }
}
