#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The multi-threaded CPU path: radix sort per segment, exact integer counts, parallel over
/// segments and over pixels. Buffers are reused across calls.
struct CPUBackend: Sendable {
    /// Threads used for one call (at least 1).
    let workers: Int
    let scratch = CPUScratch()
    /// How work is split and sorted (tests shrink it to reach every path on small problems).
    let tuning: CPUSortTuning

    init(workers: Int? = nil, tuning: CPUSortTuning = .standard) {
        self.workers = max(1, workers ?? Self.onlineProcessors)
        self.tuning = tuning
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
        let shape = problem.shape
        let loss = problem.options.loss
        let logits = problem.options.scoresAre == .logits
        // The softmax pass tests the logits itself; every other case scans them first.
        let validatedBySoftmax = loss == .softmax && logits
        if !validatedBySoftmax, let bad = firstNonFinite(problem.scores, workers: workers) {
            throw problem.nonFiniteError(at: bad)
        }
        var borrowed: [UnsafeMutableBufferPointer<Float>] = []
        defer { borrowed.forEach(scratch.returnFloats) }
        func temporary() -> UnsafeMutableBufferPointer<Float> {
            let buffer = scratch.floats(capacity: shape.scoreCount)
            borrowed.append(buffer)
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<shape.scoreCount])
        }

        // Probabilities [B, C, S]: in the gradient buffer when there is one, else temporary.
        var values = problem.scores
        if loss != .hinge && logits {
            let target = gradient ?? temporary()
            if loss == .softmax {
                if Probabilities.softmax(logits: problem.scores, into: target, shape: shape, workers: workers),
                    let bad = firstNonFinite(problem.scores, workers: workers)
                {
                    throw problem.nonFiniteError(at: bad)
                }
            } else {
                Probabilities.sigmoid(logits: problem.scores, into: target, workers: workers)
            }
            values = UnsafeBufferPointer(target)
        }

        // ∂loss/∂(probability or hinge logit), class-major [C][B·S].
        var upstream: UnsafeMutableBufferPointer<Float>?
        if let gradient {
            let direct = loss == .hinge || (loss == .sigmoid && !logits)
            let buffer = direct ? gradient : temporary()
            zeroUncovered(problem, upstream: buffer)
            upstream = buffer
        }

        let segmentLosses = SegmentSorter.run(
            problem, values: values, upstream: upstream, scratch: scratch, workers: workers, tuning: tuning)
        var total = 0.0
        for (segment, value) in zip(problem.plan.segments, segmentLosses) { total += segment.weight * value }

        if let gradient, let upstream {
            Backpropagation.run(
                loss: loss, logits: logits, shape: shape, upstream: UnsafeBufferPointer(upstream),
                gradient: gradient, workers: workers)
        }
        return total
    }

    /// Zeroes the upstream ranges of every (group, channel) without a segment; the segments
    /// write (and zero) their own ranges.
    private func zeroUncovered(_ problem: LossProblem, upstream: UnsafeMutableBufferPointer<Float>) {
        let shape = problem.shape
        var covered = Set<Int>()
        for segment in problem.plan.segments {
            covered.insert(segment.group * shape.channels + segment.channel)
        }
        let ranges = problem.plan.groups.indices.flatMap { g in
            (0..<shape.channels).filter { !covered.contains(g * shape.channels + $0) }.map { (g, $0) }
        }
        parallelForEach(count: ranges.count, workers: workers) { _, index in
            let (g, channel) = ranges[index]
            let group = problem.plan.groups[g]
            let start = channel * shape.pixelCount + group.firstImage * shape.spatial
            (upstream.baseAddress! + start).update(repeating: 0, count: group.imageCount * shape.spatial)
        }
    }
}
