import Lovasz
import LovaszWorkloads

/// The timings of one case on one backend.
struct BenchMeasurement {
    /// The backend and device that computed.
    let backend: Backend
    let device: String
    /// The result of the last call.
    let result: LossResult
    /// Seconds per timed call, in the order they ran.
    let samples: [Double]
    /// OpenCL only: seconds per zero-copy call (device buffers in, the gradient left there).
    let zeroCopySamples: [Double]?
    /// OpenCL with `--phases` only: the device time of each phase of one more call on host
    /// arrays, and of one zero-copy call.
    let phases: PhaseTimes?
    let zeroCopyPhases: PhaseTimes?
    /// The peak resident memory during the measurement, in bytes (`nil` if unreadable).
    let peakResidentBytes: Int?
    /// Whether the peak covers only this measurement (`true` where the peak can be reset)
    /// or the whole process so far.
    let peakIsPerMeasurement: Bool

    /// The median of ``samples`` (the mean of the middle two for an even count).
    var medianSeconds: Double { Self.median(samples) }

    /// The fastest call.
    var minimumSeconds: Double { samples.min() ?? 0 }

    /// The median of `values` (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Times loss + gradient calls of a case: warm-up calls, then timed calls, with one
/// preallocated gradient buffer and the engine's zero-copy entry point.
enum BenchRunner {
    /// Measures `benchCase` on a fresh engine for `choice`.
    ///
    /// On OpenCL, the zero-copy path is then also timed: the engine's compute on device buffers
    /// (``LovaszEngine/zeroCopyTimes(scores:shape:labels:options:repetitions:)``), what a
    /// training step whose tensors live on the GPU pays.
    ///
    /// The peak resident memory is reset (where the system allows) before the engine and the
    /// gradient buffer are created, so it covers the inputs, the gradient and the engine's
    /// scratch memory of this measurement only.
    ///
    /// - Parameters:
    ///   - warmup: untimed calls first (≥ 0).
    ///   - repeat: timed calls (≥ 1).
    ///   - threads: CPU threads, `nil` for every processor.
    ///   - phases: on OpenCL, also profile one call per phase (after the timed ones).
    /// - Throws: ``LovaszError`` from the engine (bad input, OpenCL unavailable or failing).
    static func measure(
        _ benchCase: BenchCase, backend choice: BackendChoice, threads: Int?, warmup: Int, repeat: Int,
        phases: Bool = false
    ) throws(LovaszError) -> BenchMeasurement {
        precondition(warmup >= 0 && `repeat` >= 1, "at least one timed call")
        let peakIsPerMeasurement = ResidentMemory.resetPeak()
        let engine = try LovaszEngine(backend: choice, threads: threads)
        var gradient = [Float](repeating: 0, count: benchCase.scoreCount)
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(`repeat`)
        var last = LossResult(loss: 0, classesCounted: 0, segments: 0, backend: engine.backend, device: engine.device)
        try gradient.withUnsafeMutableBufferPointer { (gradient) throws(LovaszError) in
            for _ in 0..<warmup {
                last = try benchCase.compute(engine: engine, gradient: gradient)
            }
            for _ in 0..<`repeat` {
                let start = clock.now
                last = try benchCase.compute(engine: engine, gradient: gradient)
                samples.append(start.duration(to: clock.now) / .seconds(1))
            }
        }
        let zeroCopy = engine.backend == .opencl
            ? try benchCase.zeroCopySeconds(engine: engine, repetitions: `repeat`) : nil
        let phaseTimes = engine.backend == .opencl && phases ? try benchCase.phaseTimes(engine: engine) : nil
        return BenchMeasurement(
            backend: engine.backend, device: engine.device, result: last, samples: samples, zeroCopySamples: zeroCopy,
            phases: phaseTimes?.hostArrays, zeroCopyPhases: phaseTimes?.zeroCopy,
            peakResidentBytes: ResidentMemory.peakBytes(), peakIsPerMeasurement: peakIsPerMeasurement)
    }
}
