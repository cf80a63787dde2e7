/// Sorts every segment of a plan and evaluates its Lovász loss and gradient on the CPU.
enum SegmentSorter {
    /// The unweighted Lovász loss of each segment of `problem.plan`, in plan order.
    ///
    /// - Parameters:
    ///   - probabilities: `[B, C, S]` probabilities (softmax, sigmoid) or the logits (hinge).
    ///   - upstream: when given, receives `weight · ∂lovasz/∂m · ∂m/∂x` at `[c][b·S + s]`, where
    ///     `x` is the probability (softmax, sigmoid) or the logit (hinge).
    static func run(
        _ problem: LossProblem,
        probabilities: UnsafeBufferPointer<Float>,
        upstream: UnsafeMutableBufferPointer<Float>?,
        workers: Int
    ) -> [Double] {
        let plan = problem.plan
        let capacity = max(plan.largestGroup, 1)
        let threads = max(1, min(workers, plan.segments.count))
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * capacity * threads)
        let histograms = UnsafeMutablePointer<Int>.allocate(capacity: 3 * RadixSort.buckets * threads)
        defer {
            keys.deallocate()
            histograms.deallocate()
        }
        var losses = [Double](repeating: 0, count: plan.segments.count)
        losses.withUnsafeMutableBufferPointer { losses in
            parallelForEach(count: plan.segments.count, workers: threads) { worker, index in
                let own = keys + 2 * capacity * worker
                losses[index] = sortSegment(
                    problem, segment: plan.segments[index], probabilities: probabilities,
                    upstream: upstream, keys: own, scratch: own + capacity,
                    histogram: histograms + 3 * RadixSort.buckets * worker)
            }
        }
        return losses
    }

    private static func sortSegment(
        _ problem: LossProblem,
        segment: SegmentPlan.Segment,
        probabilities: UnsafeBufferPointer<Float>,
        upstream: UnsafeMutableBufferPointer<Float>?,
        keys: UnsafeMutablePointer<UInt64>,
        scratch: UnsafeMutablePointer<UInt64>,
        histogram: UnsafeMutablePointer<Int>
    ) -> Double {
        let shape = problem.shape
        let group = problem.plan.groups[segment.group]
        let S = shape.spatial, C = shape.channels
        let hinge = problem.options.loss == .hinge
        let classOf = problem.labels.classOf
        let foreground = segment.foregroundLabel

        // Errors of the group's valid pixels, packed with their rank and foreground bit.
        var count = 0
        classOf.withUnsafeBufferPointer { classOf in
            for b in group.firstImage ..< group.firstImage + group.imageCount {
                let labelBase = b * S
                let valueBase = (b * C + segment.channel) * S
                for s in 0..<S {
                    let label = classOf[labelBase + s]
                    if label < 0 { continue }
                    let isForeground = label == foreground
                    let x = probabilities[valueBase + s]
                    let error: Float = hinge ? (isForeground ? 1 - x : 1 + x) : (isForeground ? 1 - x : x)
                    keys[count] = SortKey.pack(error: error, rank: count, foreground: isForeground)
                    count += 1
                }
            }
        }
        let sorted = RadixSort.sortByHighWord(keys, scratch: scratch, count: count, histogram: histogram)

        var intersection = segment.foregroundCount
        var union = intersection
        var loss = 0.0
        guard let upstream else {
            for r in 0..<count {
                let key = sorted[r]
                let g = lovaszStep(isForeground: SortKey.isForeground(key), intersection: &intersection, union: &union)
                let error = SortKey.error(of: key)
                loss += Double(hinge ? max(error, 0) : error) * g
            }
            return loss
        }
        let plane = upstream.baseAddress! + segment.channel * shape.pixelCount
        let firstPixel = group.firstImage * S
        let weight = segment.weight
        problem.plan.validPixels.withOptionalBuffer { validPixels in
            for r in 0..<count {
                let key = sorted[r]
                let isForeground = SortKey.isForeground(key)
                let g = lovaszStep(isForeground: isForeground, intersection: &intersection, union: &union)
                let error = SortKey.error(of: key)
                let active = !hinge || error > 0
                loss += active ? Double(error) * g : 0
                let rank = SortKey.rank(of: key)
                let pixel = validPixels.map { Int($0[group.validOffset + rank]) } ?? firstPixel + rank
                // ∂m/∂x is -1 for foreground, +1 for background (softmax, sigmoid and hinge alike).
                let derivative = active ? (isForeground ? -weight * g : weight * g) : 0
                plane[pixel] = Float(derivative)
            }
        }
        return loss
    }
}

extension Optional where Wrapped == [UInt32] {
    /// Calls `body` with the array's buffer, or with `nil`.
    func withOptionalBuffer<R>(_ body: (UnsafeBufferPointer<UInt32>?) -> R) -> R {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0) }
        case .none: return body(nil)
        }
    }
}
