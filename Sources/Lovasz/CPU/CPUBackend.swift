#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The multi-threaded CPU path: radix sort per segment, exact integer counts, parallel over
/// segments and over pixels.
struct CPUBackend: Sendable {
    /// Threads used for one call (at least 1).
    let workers: Int

    init(workers: Int? = nil) {
        self.workers = max(1, workers ?? Self.onlineProcessors)
    }

    static var onlineProcessors: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    var deviceName: String { "CPU (\(workers) thread\(workers == 1 ? "" : "s"))" }

    /// Computes the loss of `problem` and, when `gradient` is given, `∂loss/∂scores` into it.
    ///
    /// - Parameter gradient: `problem.shape.scoreCount` floats, overwritten.
    /// - Throws: ``LovaszError/nonFiniteScore(position:value:)`` for the first NaN or infinity.
    func compute(
        _ problem: LossProblem, gradient: UnsafeMutableBufferPointer<Float>?
    ) throws(LovaszError) -> Double {
        if let bad = firstNonFinite(problem.scores, workers: workers) {
            throw problem.nonFiniteError(at: bad)
        }
        let shape = problem.shape
        let loss = problem.options.loss
        let logits = problem.options.scoresAre == .logits

        // Probabilities [B, C, S]: in the gradient buffer when there is one, else temporary.
        var ownedProbabilities: UnsafeMutableBufferPointer<Float>?
        defer { ownedProbabilities?.deallocate() }
        var probabilities = problem.scores
        if loss != .hinge && logits {
            let target = gradient ?? {
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: shape.scoreCount)
                ownedProbabilities = buffer
                return buffer
            }()
            if loss == .softmax {
                Probabilities.softmax(logits: problem.scores, into: target, shape: shape, workers: workers)
            } else {
                Probabilities.sigmoid(logits: problem.scores, into: target, workers: workers)
            }
            probabilities = UnsafeBufferPointer(target)
        }

        // ∂loss/∂(probability or hinge logit), class-major [C][B·S], zero where not counted.
        var ownedUpstream: UnsafeMutableBufferPointer<Float>?
        defer { ownedUpstream?.deallocate() }
        var upstream: UnsafeMutableBufferPointer<Float>?
        if let gradient {
            let direct = loss == .hinge || (loss == .sigmoid && !logits)
            let buffer = direct ? gradient : UnsafeMutableBufferPointer<Float>.allocate(capacity: shape.scoreCount)
            if !direct { ownedUpstream = buffer }
            buffer.initialize(repeating: 0)
            upstream = buffer
        }

        let segmentLosses = SegmentSorter.run(
            problem, probabilities: probabilities, upstream: upstream, workers: workers)
        var total = 0.0
        for (segment, value) in zip(problem.plan.segments, segmentLosses) { total += segment.weight * value }

        if let gradient, let upstream {
            Backpropagation.run(
                loss: loss, logits: logits, shape: shape, upstream: UnsafeBufferPointer(upstream),
                gradient: gradient, workers: workers)
        }
        return total
    }
}
