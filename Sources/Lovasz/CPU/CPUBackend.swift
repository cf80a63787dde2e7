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

    /// Whether the key passes of `problem` read every score, so that they can validate them in
    /// place of a pass of its own: the hinge (its scores are the logits the key passes read),
    /// with foreground in every group (each group then has a segment whose key passes cover all
    /// its pixels, ignored ones included; a group without foreground takes a different path).
    static func keyPassesValidate(_ problem: LossProblem) -> Bool {
        let plan = problem.plan
        guard problem.options.loss == .hinge, plan.labelClasses == 2 else { return false }
        return plan.classCounts.withUnsafeBufferPointer { counts in
            (0..<plan.groupCount).allSatisfy { counts[2 * $0 + 1] > 0 }
        }
    }

    /// Computes the loss of `problem` and, when `gradient` is given, `∂loss/∂scores` into it.
    ///
    /// - Parameter gradient: `problem.shape.scoreCount` floats, overwritten.
    /// - Throws: ``LovaszError/nonFiniteScore(position:value:)`` for the first NaN or infinity,
    ///   ``LovaszError/outOfMemory(bytes:)`` when a temporary buffer cannot be allocated.
    func compute(
        _ problem: LossProblem, gradient: UnsafeMutableBufferPointer<Float>?
    ) throws(LovaszError) -> Double {
        let shape = problem.shape
        let loss = problem.options.loss
        let workers = shape.scoreCount < tuning.singleThreadedBelow ? 1 : self.workers
        let logits = problem.options.scoresAre == .logits
        // The softmax pass tests the logits itself; the engine has checked probabilities
        // (``LovaszEngine/compute``); the other logits are scanned first.
        // The hinge's key passes read every score when every group has foreground: they test
        // them as they go (``keyPassesValidate(_:)``).
        let keyPassFlag = Self.keyPassesValidate(problem) ? NonFiniteFlag() : nil
        let validated = (loss == .softmax && logits) || !logits || keyPassFlag != nil
        if !validated, let bad = firstNonFinite(problem.scores, workers: workers) {
            throw problem.nonFiniteError(at: bad)
        }
        var borrowed: [UnsafeMutableBufferPointer<Float>] = []
        defer { borrowed.forEach(scratch.returnFloats) }
        func temporary() throws(LovaszError) -> UnsafeMutableBufferPointer<Float> {
            let buffer = try scratch.floats(capacity: shape.scoreCount)
            borrowed.append(buffer)
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<shape.scoreCount])
        }

        // Probabilities [B, C, S]: in the gradient buffer when there is one, else temporary.
        var values = problem.scores
        var foregroundBests: ForegroundBests?
        var bestsTable: UnsafeMutableBufferPointer<UInt64>?
        defer { bestsTable.map(scratch.returnKeys) }
        if loss != .hinge && logits {
            let target: UnsafeMutableBufferPointer<Float>
            if let gradient { target = gradient } else { target = try temporary() }
            if loss == .softmax {
                if ForegroundBests.applies(to: shape) {
                    let table = try scratch.keys(capacity: ForegroundBests.entryCount(shape: shape))
                    bestsTable = table
                    foregroundBests = ForegroundBests(table: table.baseAddress!, shape: shape)
                }
                let sawNonFinite = problem.labels.classOf.withIndices { classOf in
                    Probabilities.softmax(
                        logits: problem.scores, into: target, shape: shape, workers: workers,
                        foreground: foregroundBests.map { ($0, classOf) })
                }
                if sawNonFinite,
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
            if direct { upstream = gradient } else { upstream = try temporary() }
        }

        let total = try SegmentSorter.run(
            problem, values: values, upstream: upstream, scratch: scratch, workers: workers, tuning: tuning,
            foregroundBests: foregroundBests, nonFinite: keyPassFlag)
        if let keyPassFlag, keyPassFlag.isSet, let bad = firstNonFinite(problem.scores, workers: workers) {
            throw problem.nonFiniteError(at: bad)
        }

        if let gradient, let upstream {
            Backpropagation.run(
                loss: loss, logits: logits, shape: shape, upstream: UnsafeBufferPointer(upstream),
                gradient: gradient, workers: workers)
        }
        return total
    }
}
