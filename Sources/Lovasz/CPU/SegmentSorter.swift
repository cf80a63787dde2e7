/// Sorts every segment of a plan and evaluates its Lovász loss and gradient on the CPU.
///
/// Only the pixels up to the last foreground pixel in sorted order are sorted: every pixel
/// after it is background with nothing left to intersect (`intersection = 0`), so its
/// gradient entry is exactly zero and it adds nothing to the loss. The result is the same as
/// sorting everything; the work shrinks to the pixels that matter.
enum SegmentSorter {
    /// Segments planned, cut and sorted together: bounds the bookkeeping memory of a batch
    /// of many small groups (a few hundred kilobytes, whatever the batch size).
    static let chunkSegments = 1 << 14

    /// Groups of at most this many valid pixels are sorted by insertion, without a histogram.
    static let smallGroup = 32

    /// The loss `Σ weight · lovasz(segment)` over the segments of `problem.plan`, summed in
    /// plan order.
    ///
    /// - Parameters:
    ///   - values: `[B, C, S]` probabilities (softmax, sigmoid) or the logits (hinge).
    ///   - upstream: when given, receives `weight · ∂lovasz/∂m · ∂m/∂x` at `[c][b·S + s]`, where
    ///     `x` is the probability (softmax, sigmoid) or the logit (hinge), for every pixel of
    ///     every channel (zero where the gradient is zero, ignored pixels included).
    /// - Throws: ``LovaszError/outOfMemory(bytes:)``.
    static func run(
        _ problem: LossProblem,
        values: UnsafeBufferPointer<Float>,
        upstream: UnsafeMutableBufferPointer<Float>?,
        scratch: CPUScratch,
        workers: Int
    ) throws(LovaszError) -> Double {
        let plan = problem.plan
        let capacity = max(plan.largestGroup, 1)
        let threads = max(1, min(workers, plan.segmentCount))
        let keys = try scratch.keys(capacity: 2 * capacity * threads)
        let histograms = UnsafeMutablePointer<Int>.allocate(capacity: RadixSort.histogramSize * threads)
        defer {
            scratch.returnKeys(keys)
            histograms.deallocate()
        }
        var total = 0.0
        var segments: [SegmentPlan.Segment] = []
        segments.reserveCapacity(chunkSegments + problem.labels.labelClasses)
        var losses = [Double](repeating: 0, count: chunkSegments + problem.labels.labelClasses)
        var nextGroup = 0
        problem.labels.classOf.withUnsafeBufferPointer { classOf in
            problem.plan.validPixels.withOptionalBuffer { validPixels in
                while nextGroup < plan.groupCount {
                    let first = nextGroup
                    segments.removeAll(keepingCapacity: true)
                    while nextGroup < plan.groupCount && segments.count < chunkSegments {
                        plan.appendSegments(ofGroups: nextGroup ..< nextGroup + 1, to: &segments)
                        nextGroup += 1
                    }
                    let chunk = Chunk(groups: first ..< nextGroup, segments: segments)
                    if let upstream { zeroUncovered(problem, chunk: chunk, upstream: upstream, workers: workers) }
                    let cuts = foregroundCuts(problem, chunk: chunk, values: values, classOf: classOf, workers: workers)
                    losses.withUnsafeMutableBufferPointer { losses in
                        parallelForEach(count: segments.count, workers: threads) { worker, index in
                            let own = keys.baseAddress! + 2 * capacity * worker
                            var segment = SegmentWork(
                                problem: problem, segment: segments[index], values: values,
                                classOf: classOf, validPixels: validPixels, upstream: upstream)
                            losses[index] = segment.run(
                                cut: cuts[index], keys: own, scratch: own + capacity,
                                histogram: histograms + RadixSort.histogramSize * worker)
                        }
                    }
                    for (segment, value) in zip(segments, losses) { total += segment.weight * value }
                }
            }
        }
        return total
    }

    /// Consecutive groups and their segments, in plan order.
    private struct Chunk {
        let groups: Range<Int>
        let segments: [SegmentPlan.Segment]
        /// `segments[starts[i] ..< starts[i + 1]]` are the segments of group `groups.lowerBound + i`.
        let starts: [Int]

        init(groups: Range<Int>, segments: [SegmentPlan.Segment]) {
            var starts: [Int] = []
            starts.reserveCapacity(groups.count + 1)
            var index = 0
            for g in groups {
                starts.append(index)
                while index < segments.count && segments[index].group == g { index += 1 }
            }
            starts.append(index)
            self.groups = groups
            self.segments = segments
            self.starts = starts
        }
    }

    /// Zeroes the upstream ranges of every (group, channel) of the chunk without a segment;
    /// the segments write (and zero) their own ranges.
    private static func zeroUncovered(
        _ problem: LossProblem, chunk: Chunk, upstream: UnsafeMutableBufferPointer<Float>, workers: Int
    ) {
        let shape = problem.shape
        let starts = chunk.starts
        var covered = [Bool](repeating: false, count: shape.channels)
        var ranges: [(group: Int, channel: Int)] = []
        for local in 0..<chunk.groups.count {
            for index in starts[local] ..< starts[local + 1] { covered[chunk.segments[index].channel] = true }
            for channel in 0..<shape.channels where !covered[channel] { ranges.append((chunk.groups.lowerBound + local, channel)) }
            for index in starts[local] ..< starts[local + 1] { covered[chunk.segments[index].channel] = false }
        }
        let plan = problem.plan
        parallelForEach(count: ranges.count, workers: workers) { _, index in
            let (g, channel) = ranges[index]
            let start = channel * shape.pixelCount + g * plan.imagesPerGroup * shape.spatial
            (upstream.baseAddress! + start).update(repeating: 0, count: plan.imagesPerGroup * shape.spatial)
        }
    }

    /// The largest foreground key of every segment of the chunk (0 without foreground): where
    /// its sort can stop. One pass over each group's pixels finds the cuts of all its classes.
    private static func foregroundCuts(
        _ problem: LossProblem, chunk: Chunk, values: UnsafeBufferPointer<Float>,
        classOf: UnsafeBufferPointer<Int32>, workers: Int
    ) -> [UInt64] {
        let plan = problem.plan
        let labelClasses = problem.labels.labelClasses
        let S = problem.shape.spatial, C = problem.shape.channels
        let starts = chunk.starts
        let threads = max(1, min(workers, chunk.groups.count))
        // Per worker: label → segment (-1: none), label → channel, label → largest key.
        var segmentOfLabel = [Int](repeating: -1, count: labelClasses * threads)
        var channelOfLabel = [Int](repeating: 0, count: labelClasses * threads)
        var largest = [UInt64](repeating: 0, count: labelClasses * threads)
        var cuts = [UInt64](repeating: 0, count: chunk.segments.count)
        segmentOfLabel.withUnsafeMutableBufferPointer { segmentOfLabel in
            channelOfLabel.withUnsafeMutableBufferPointer { channelOfLabel in
                largest.withUnsafeMutableBufferPointer { largest in
                    cuts.withUnsafeMutableBufferPointer { cuts in
                        parallelForEach(count: chunk.groups.count, workers: threads) { worker, local in
                            let segmentRange = starts[local] ..< starts[local + 1]
                            guard !segmentRange.isEmpty else { return }
                            let segmentOf = segmentOfLabel.baseAddress! + worker * labelClasses
                            let channelOf = channelOfLabel.baseAddress! + worker * labelClasses
                            let top = largest.baseAddress! + worker * labelClasses
                            // The binary losses read channel 0 for label 1.
                            for index in segmentRange {
                                let segment = chunk.segments[index]
                                let label = Int(segment.foregroundLabel)
                                segmentOf[label] = index
                                channelOf[label] = segment.channel
                                top[label] = 0
                            }
                            let group = plan.group(chunk.groups.lowerBound + local)
                            var rank = 0
                            for b in group.firstImage ..< group.firstImage + group.imageCount {
                                let labels = classOf.baseAddress! + b * S
                                let image = values.baseAddress! + b * C * S
                                for s in 0..<S {
                                    let label = Int(labels[s])
                                    if label < 0 { continue }
                                    if segmentOf[label] >= 0 {
                                        // The foreground error is 1 - x for every loss (x: probability or logit).
                                        let error = 1 - image[channelOf[label] * S + s]
                                        let key = SortKey.pack(error: error, rank: rank, foreground: true)
                                        if key > top[label] { top[label] = key }
                                    }
                                    rank += 1
                                }
                            }
                            for index in segmentRange {
                                let label = Int(chunk.segments[index].foregroundLabel)
                                cuts[index] = top[label]
                                segmentOf[label] = -1
                            }
                        }
                    }
                }
            }
        }
        return cuts
    }
}

/// The work on one segment: errors, cut, sort and the walk of Algorithm 1.
private struct SegmentWork {
    let segment: SegmentPlan.Segment
    let group: SegmentPlan.Group
    let values: UnsafeBufferPointer<Float>
    let classOf: UnsafeBufferPointer<Int32>
    let validPixels: UnsafeBufferPointer<UInt32>?
    /// The segment's class plane of the upstream buffer, `[b·S + s]`.
    let plane: UnsafeMutablePointer<Float>?
    let spatial: Int
    let channels: Int
    let hinge: Bool

    init(
        problem: LossProblem, segment: SegmentPlan.Segment, values: UnsafeBufferPointer<Float>,
        classOf: UnsafeBufferPointer<Int32>, validPixels: UnsafeBufferPointer<UInt32>?,
        upstream: UnsafeMutableBufferPointer<Float>?
    ) {
        self.segment = segment
        self.group = problem.plan.group(segment.group)
        self.values = values
        self.classOf = classOf
        self.validPixels = validPixels
        self.plane = upstream.map { $0.baseAddress! + segment.channel * problem.shape.pixelCount }
        self.spatial = problem.shape.spatial
        self.channels = problem.shape.channels
        self.hinge = problem.options.loss == .hinge
    }

    /// Calls `body(rank, pixel, key)` for every valid pixel of the group in rank order.
    @inline(__always)
    func forEachKey(_ body: (Int, Int, UInt64) -> Void) {
        var rank = 0
        let foreground = segment.foregroundLabel
        for b in group.firstImage ..< group.firstImage + group.imageCount {
            let labelBase = b * spatial
            let valueBase = (b * channels + segment.channel) * spatial
            for s in 0..<spatial {
                let label = classOf[labelBase + s]
                if label < 0 { continue }
                let isForeground = label == foreground
                let x = values[valueBase + s]
                let error: Float = hinge ? (isForeground ? 1 - x : 1 + x) : (isForeground ? 1 - x : x)
                body(rank, labelBase + s, SortKey.pack(error: error, rank: rank, foreground: isForeground))
                rank += 1
            }
        }
    }

    @inline(__always)
    func pixel(ofRank rank: Int) -> Int {
        if let validPixels { return Int(validPixels[group.validOffset + rank]) }
        return group.firstImage * spatial + rank
    }

    /// - Parameter cut: the segment's largest foreground key (from `foregroundCuts`).
    mutating func run(
        cut: UInt64, keys: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>,
        histogram: UnsafeMutablePointer<Int>
    ) -> Double {
        if let plane {
            let first = group.firstImage * spatial
            (plane + first).update(repeating: 0, count: group.imageCount * spatial)
        }
        if segment.foregroundCount == 0 { return runWithoutForeground() }

        // The last foreground pixel in sorted order has the largest foreground key.
        if group.validCount <= SegmentSorter.smallGroup {
            var count = 0
            forEachKey { _, _, key in
                if key <= cut {
                    keys[count] = key
                    count += 1
                }
            }
            insertionSort(keys, count: count)
            return walk(sorted: keys, count: count)
        }
        histogram.initialize(repeating: 0, count: RadixSort.histogramSize)
        var count = 0
        forEachKey { _, _, key in
            if key <= cut {
                keys[count] = key
                RadixSort.count(key, into: histogram)
                count += 1
            }
        }
        let sorted = RadixSort.sort(keys, scratch: scratch, count: count, countedHistogram: histogram)
        return walk(sorted: sorted, count: count)
    }

    /// Sorts `keys[0..<count]` ascending, for a handful of keys (no histogram to clear).
    private func insertionSort(_ keys: UnsafeMutablePointer<UInt64>, count: Int) {
        guard count > 1 else { return }
        for i in 1..<count {
            let key = keys[i]
            var j = i
            while j > 0 && keys[j - 1] > key {
                keys[j] = keys[j - 1]
                j -= 1
            }
            keys[j] = key
        }
    }

    /// Algorithm 1 over the sorted keys with exact integer counts.
    private func walk(sorted: UnsafeMutablePointer<UInt64>, count: Int) -> Double {
        var intersection = segment.foregroundCount
        var union = intersection
        var loss = 0.0
        let weight = segment.weight
        for r in 0..<count {
            let key = sorted[r]
            let isForeground = SortKey.isForeground(key)
            let g = lovaszStep(isForeground: isForeground, intersection: &intersection, union: &union)
            let error = SortKey.error(of: key)
            let active = !hinge || error > 0
            if active { loss += Double(error) * g }
            if let plane {
                // ∂m/∂x is -1 for foreground, +1 for background (softmax, sigmoid and hinge alike).
                let derivative = active ? (isForeground ? -weight * g : weight * g) : 0
                plane[pixel(ofRank: SortKey.rank(of: key))] = Float(derivative)
            }
        }
        return loss
    }

    /// A segment with no foreground: only its largest error counts, with gradient 1.
    private func runWithoutForeground() -> Double {
        var first = UInt64.max
        forEachKey { _, _, key in
            if key < first { first = key }
        }
        guard first != .max else { return 0 }
        let error = SortKey.error(of: first)
        guard !hinge || error > 0 else { return 0 }
        if let plane { plane[pixel(ofRank: SortKey.rank(of: first))] = Float(segment.weight) }
        return Double(error)
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
