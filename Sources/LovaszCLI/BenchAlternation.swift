import ArgumentParser
import Lovasz
import LovaszWorkloads

/// Two CPU thread counts timed against each other in one process (`--alternate-threads A,B`).
struct BenchThreadPair: ExpressibleByArgument, Equatable {
    /// The reference count (`A`) and the count compared with it (`B`), both ≥ 1, distinct.
    let first: Int
    let second: Int

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int(parts[0]), let second = Int(parts[1]),
              first >= 1, second >= 1, first != second else { return nil }
        self.first = first
        self.second = second
    }

    var defaultValueDescription: String { "\(first),\(second)" }
}

/// The timings of one case on two CPU thread counts whose calls alternated in one process.
struct BenchAlternation {
    /// The measurement of each thread count, in the order of the pair.
    let first: BenchMeasurement
    let second: BenchMeasurement
    /// For each pair of neighbouring turns, the median time of `first`'s turn over that of
    /// `second`'s.
    let turnRatios: [Double]

    /// The median of ``turnRatios``: how many times faster `second` ran than `first`, turn
    /// against neighbouring turn.
    var medianTurnRatio: Double { BenchMeasurement.median(turnRatios) }
}

extension BenchRunner {
    /// Timed calls of one engine in a row, after one untimed call.
    static let callsPerTurn = 10

    /// Measures `benchCase` on two CPU engines, one with each thread count of `threads`, in
    /// alternating turns (A then B, then B then A, so neither always runs second).
    ///
    /// A turn is one untimed call, which wakes the engine's pool threads (they sleep when idle
    /// for a while, as they do in training between loss calls), then ``callsPerTurn`` timed
    /// calls back to back, as in the plain measurement. Both engines write into the same
    /// gradient buffer and the turns of a pair run within milliseconds of each other, so the
    /// ratio of their medians measures what the thread counts change, with the host's speed of
    /// the moment (a virtual processor descheduled, neighbours' memory traffic) shared by both
    /// sides; separate processes also differ in where their memory lies. The peak resident
    /// memory of both records covers both engines.
    ///
    /// - Parameters:
    ///   - warmup: untimed calls of each engine first (≥ 0).
    ///   - repeat: timed calls of each engine (≥ 1), in turns of ``callsPerTurn`` (the last
    ///     turn shorter when `repeat` is not a multiple).
    /// - Throws: ``LovaszError`` from the engines (bad input).
    static func measureAlternating(
        _ benchCase: BenchCase, threads: BenchThreadPair, warmup: Int, repeat: Int
    ) throws(LovaszError) -> BenchAlternation {
        precondition(warmup >= 0 && `repeat` >= 1, "at least one timed call")
        let peakIsPerMeasurement = ResidentMemory.resetPeak()
        let engines = [
            try LovaszEngine(backend: .cpu, threads: threads.first),
            try LovaszEngine(backend: .cpu, threads: threads.second),
        ]
        var gradient = [Float](repeating: 0, count: benchCase.scoreCount)
        let clock = ContinuousClock()
        var samples: [[Double]] = [[], []]
        samples[0].reserveCapacity(`repeat`)
        samples[1].reserveCapacity(`repeat`)
        var turnRatios: [Double] = []
        var last = [LossResult](
            repeating: LossResult(loss: 0, classesCounted: 0, segments: 0, backend: .cpu, device: ""), count: 2)
        try gradient.withUnsafeMutableBufferPointer { (gradient) throws(LovaszError) in
            for _ in 0..<warmup {
                for side in 0..<2 { last[side] = try benchCase.compute(engine: engines[side], gradient: gradient) }
            }
            // One turn of `calls` timed calls of `side`; their median.
            func turn(_ side: Int, calls: Int) throws(LovaszError) -> Double {
                last[side] = try benchCase.compute(engine: engines[side], gradient: gradient)
                let first = samples[side].count
                for _ in 0..<calls {
                    let start = clock.now
                    last[side] = try benchCase.compute(engine: engines[side], gradient: gradient)
                    samples[side].append(start.duration(to: clock.now) / .seconds(1))
                }
                return BenchMeasurement.median(Array(samples[side][first...]))
            }
            var pair = 0
            while samples[0].count < `repeat` {
                let calls = min(callsPerTurn, `repeat` - samples[0].count)
                var medians = [0.0, 0.0]
                let leading = pair % 2
                medians[leading] = try turn(leading, calls: calls)
                medians[1 - leading] = try turn(1 - leading, calls: calls)
                turnRatios.append(medians[0] / medians[1])
                pair += 1
            }
        }
        let peak = ResidentMemory.peakBytes()
        let measurements = (0..<2).map { side in
            BenchMeasurement(
                backend: engines[side].backend, device: engines[side].device, result: last[side],
                samples: samples[side], zeroCopySamples: nil, phases: nil, zeroCopyPhases: nil,
                peakResidentBytes: peak, peakIsPerMeasurement: peakIsPerMeasurement)
        }
        return BenchAlternation(first: measurements[0], second: measurements[1], turnRatios: turnRatios)
    }
}
