import Foundation
import Lovasz

/// One row of a `lovasz bench` report, as printed in the table and in the JSON.
struct BenchRecord: Codable {
    var workload: String
    var data: String
    var backend: String
    var device: String
    /// The loss function: softmax, hinge or sigmoid.
    var lossKind: String
    var shape: [Int]
    var perImage: Bool
    /// `present`, `all`, or the explicit class list such as `0,3,7`.
    var classes: String
    var ignoreIndex: Int?
    /// The loss value of the last call.
    var loss: Double
    var classesCounted: Int
    var segments: Int
    /// `Σ` over segments of the group's valid pixels.
    var segmentElements: Int
    var medianMilliseconds: Double
    var minMilliseconds: Double
    /// `segmentElements` divided by the median time.
    var segmentElementsPerSecond: Double
    /// Every timed call, in milliseconds, in order.
    var samplesMilliseconds: [Double]
    /// OpenCL only: the median and minimum milliseconds of a zero-copy call (the engine's
    /// compute on device buffers: inputs already there, the gradient left there, only the plan's
    /// counts and the loss read back).
    var zeroCopyMedianMilliseconds: Double?
    var zeroCopyMinMilliseconds: Double?
    /// OpenCL with `--phases` only: the device time of each phase of one call on host arrays
    /// (OpenCL event profiling), in the pipeline's order, and the span from the first
    /// command's start to the last one's end.
    var phases: [BenchPhase]?
    var phaseSpanMilliseconds: Double?
    /// OpenCL with `--phases` only: the same for one zero-copy call (no upload or download of
    /// the scores and gradient).
    var zeroCopyPhases: [BenchPhase]?
    var zeroCopyPhaseSpanMilliseconds: Double?
    /// With `--alternate-threads` only: the two thread counts whose turns of calls alternated in
    /// one process, and the median over pairs of neighbouring turns of the first count's median
    /// time over the second's (the same in both rows of the pair).
    var alternation: BenchAlternationRecord?
    var warmup: Int
    var `repeat`: Int
    /// The peak resident memory of the process during the measurement.
    var peakRSSMiB: Double?
    /// `measurement` when the peak was reset before it, `process` when it covers the whole run.
    var peakRSSScope: String
    /// The float32 scores, and equally the float32 gradient.
    var scoresMiB: Double
    var gradientMiB: Double
    /// The memory budget: ``BenchReport/memoryBudgetFactor`` × (scores + gradient).
    var memoryBudgetMiB: Double
    /// `peakRSSMiB / (scoresMiB + gradientMiB)`.
    var peakOverScoresAndGradient: Double?
    var withinMemoryBudget: Bool?

    init(_ benchCase: BenchCase, _ measurement: BenchMeasurement, warmup: Int, repeat: Int) {
        let mebibyte = 1024.0 * 1024.0
        let options = benchCase.options
        workload = benchCase.workload
        data = benchCase.data
        backend = measurement.backend.rawValue
        device = measurement.device
        lossKind = options.loss.rawValue
        shape = benchCase.shape
        perImage = options.perImage
        switch options.classes {
        case .present: classes = "present"
        case .all: classes = "all"
        case .explicit(let list): classes = list.map(String.init).joined(separator: ",")
        }
        ignoreIndex = options.ignoreIndex
        loss = measurement.result.loss
        classesCounted = measurement.result.classesCounted
        segments = measurement.result.segments
        segmentElements = measurement.result.segmentElements
        let median = measurement.medianSeconds
        medianMilliseconds = median * 1000
        minMilliseconds = measurement.minimumSeconds * 1000
        segmentElementsPerSecond = median > 0 ? Double(measurement.result.segmentElements) / median : 0
        samplesMilliseconds = measurement.samples.map { $0 * 1000 }
        zeroCopyMedianMilliseconds = measurement.zeroCopySamples.map { BenchMeasurement.median($0) * 1000 }
        zeroCopyMinMilliseconds = measurement.zeroCopySamples.flatMap { $0.min() }.map { $0 * 1000 }
        phases = measurement.phases.map { times in
            times.phases.map { BenchPhase(phase: $0.name, milliseconds: $0.seconds * 1000, commands: $0.commands) }
        }
        phaseSpanMilliseconds = measurement.phases.map { $0.span * 1000 }
        zeroCopyPhases = measurement.zeroCopyPhases.map { times in
            times.phases.map { BenchPhase(phase: $0.name, milliseconds: $0.seconds * 1000, commands: $0.commands) }
        }
        zeroCopyPhaseSpanMilliseconds = measurement.zeroCopyPhases.map { $0.span * 1000 }
        self.warmup = warmup
        self.repeat = `repeat`
        peakRSSMiB = measurement.peakResidentBytes.map { Double($0) / mebibyte }
        peakRSSScope = measurement.peakIsPerMeasurement ? "measurement" : "process"
        scoresMiB = Double(benchCase.scoreBytes) / mebibyte
        gradientMiB = scoresMiB
        memoryBudgetMiB = BenchReport.memoryBudgetFactor * (scoresMiB + gradientMiB)
        peakOverScoresAndGradient = peakRSSMiB.map { $0 / (scoresMiB + gradientMiB) }
        withinMemoryBudget = peakRSSMiB.map { $0 <= memoryBudgetMiB }
    }
}

/// Two thread counts timed turn against turn in one process (`--alternate-threads A,B`).
struct BenchAlternationRecord: Codable {
    /// `[A, B]`.
    var threads: [Int]
    /// Timed calls per turn (the last turn may be shorter): the samples of both rows split into
    /// turns of this many, in order, turn i of one row beside turn i of the other.
    var callsPerTurn: Int
    /// Pairs of neighbouring turns.
    var turns: Int
    /// The median over pairs of turns of A's median time over B's: how many times faster B ran.
    var medianTurnRatio: Double
}

/// One phase of an OpenCL call: its name, device milliseconds and number of commands.
struct BenchPhase: Codable {
    var phase: String
    var milliseconds: Double
    var commands: Int
}

/// A backend that was asked for and not measured, and why.
struct BenchSkip: Codable {
    var backend: String
    var reason: String
}

/// Everything one `lovasz bench` run measured: the JSON document and the table.
struct BenchReport: Codable {
    /// The peak resident memory allowed per measurement, as a multiple of the bytes of the
    /// scores plus the gradient.
    static let memoryBudgetFactor = 3.0

    struct Machine: Codable {
        var processors: Int
        /// The processor's model as the system names it (`model name` of `/proc/cpuinfo`), or
        /// nil where it does not say.
        var processorModel: String?
        /// The 1, 5 and 15 minute load averages when the run started (empty if unknown).
        var loadAverage: [Double]
    }

    struct Settings: Codable {
        var size: String
        var seed: UInt64
        var warmup: Int
        var `repeat`: Int
        var threads: Int?
    }

    var machine: Machine
    var settings: Settings
    var results: [BenchRecord] = []
    var skipped: [BenchSkip] = []

    /// The report as one JSON object (keys sorted).
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The report as an aligned text table, with a memory verdict per row when `memory`.
    func table(memory: Bool) -> String {
        let loads = machine.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " ")
        let model = machine.processorModel.map { " (\($0))" } ?? ""
        var lines = ["\(machine.processors) processors\(model), load average \(loads.isEmpty ? "unknown" : loads); "
            + "\(settings.warmup) warm-up + \(settings.repeat) timed calls of loss + gradient, size \(settings.size)"]
        var rows = [["workload", "data", "backend", "device", "median ms", "min ms", "seg-elem/s", "peak MiB"]]
        let zeroCopy = results.contains { $0.zeroCopyMedianMilliseconds != nil }
        if zeroCopy { rows[0].append("zero-copy ms") }
        if memory { rows[0] += ["peak/(S+G)", "budget"] }
        for record in results {
            var row = [
                record.workload, record.data, record.backend, record.device,
                String(format: "%.2f", record.medianMilliseconds), String(format: "%.2f", record.minMilliseconds),
                Self.engineering(record.segmentElementsPerSecond),
                record.peakRSSMiB.map { String(format: "%.1f", $0) } ?? "n/a",
            ]
            if zeroCopy { row.append(record.zeroCopyMedianMilliseconds.map { String(format: "%.2f", $0) } ?? "-") }
            if memory {
                row.append(record.peakOverScoresAndGradient.map { String(format: "%.2fx", $0) } ?? "n/a")
                row.append(record.withinMemoryBudget.map { $0 ? "within 3x" : "OVER 3x" } ?? "n/a")
            }
            rows.append(row)
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let rightAligned = Set(4..<rows[0].count)
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }
            lines.append(cells.joined(separator: "  ").trimmingTrailingSpaces())
        }
        for record in results {
            let runs = [("phases", record.phases, record.phaseSpanMilliseconds),
                        ("zero-copy phases", record.zeroCopyPhases, record.zeroCopyPhaseSpanMilliseconds)]
            for (title, phases, span) in runs {
                guard let phases, let span else { continue }
                let parts = phases.map { "\($0.phase) \(String(format: "%.2f", $0.milliseconds))" }
                lines.append(
                    "\(record.workload) \(record.data) \(record.backend) \(title) (device ms): "
                        + parts.joined(separator: ", ") + "; span \(String(format: "%.2f", span))")
            }
        }
        // The two rows of an alternation follow each other; one line for both.
        var index = 0
        while index < results.count {
            let record = results[index]
            index += 1
            guard let alternation = record.alternation, index < results.count, results[index].alternation != nil else {
                continue
            }
            index += 1
            let (a, b) = (alternation.threads[0], alternation.threads[1])
            lines.append(
                "\(record.workload) \(record.data): \(b) thread\(b == 1 ? "" : "s") "
                    + "\(String(format: "%.2f", alternation.medianTurnRatio))x as fast as \(a) "
                    + "(median of \(alternation.turns) pair\(alternation.turns == 1 ? "" : "s") of neighbouring turns of "
                    + "\(alternation.callsPerTurn) calls "
                    + "in this process)")
        }
        for skip in skipped { lines.append("\(skip.backend): skipped: \(skip.reason)") }
        return lines.joined(separator: "\n")
    }

    /// `1.23 G`, `456.7 M`, `89.0 k`.
    static func engineering(_ value: Double) -> String {
        switch value {
        case 1e9...: return String(format: "%.2f G", value / 1e9)
        case 1e6...: return String(format: "%.1f M", value / 1e6)
        case 1e3...: return String(format: "%.1f k", value / 1e3)
        default: return String(format: "%.0f", value)
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
