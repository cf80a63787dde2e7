/// Sorts every segment of a plan and evaluates its Lovász loss and gradient on the CPU.
///
/// Only the pixels up to the last foreground pixel in sorted order are sorted: every pixel
/// after it is background with nothing left to intersect (`intersection = 0`), so its
/// gradient entry is exactly zero and it adds nothing to the loss. The result is the same as
/// sorting everything; the work shrinks to the pixels that matter.
///
/// Segments are planned, cut and sorted in chunks of ``chunkSegments``, so that the
/// bookkeeping of a batch of millions of tiny images stays a few hundred kilobytes.
enum SegmentSorter {
    /// Segments planned, cut and sorted together: bounds the bookkeeping memory of a batch
    /// of many small groups (a few hundred kilobytes, whatever the batch size).
    static let chunkSegments = 1 << 14

    /// Segments keeping at most this many keys are sorted by insertion, without a histogram.
    static let smallGroup = 32

    /// The loss `Σ weight · lovasz(segment)` over the segments of `problem.plan`, summed in
    /// plan order.
    ///
    /// - Parameters:
    ///   - values: `[B, C, S]` probabilities (softmax, sigmoid) or the logits (hinge).
    ///   - upstream: when given, receives `weight · ∂lovasz/∂m · ∂m/∂x` at `[c][b·S + s]`, where
    ///     `x` is the probability (softmax, sigmoid) or the logit (hinge), for every pixel of
    ///     every channel (zero where the gradient is zero, ignored pixels included).
    ///   - workers: threads, at least 1.
    ///   - foregroundBests: the softmax pass's record of the cuts (softmax of logits), read
    ///     instead of a pass over the scores.
    ///   - nonFinite: set when a key pass reads a NaN or infinite score (see
    ///     ``CPUBackend/keyPassesValidate(_:)``).
    /// - Throws: ``LovaszError/outOfMemory(bytes:)``.
    static func run(
        _ problem: LossProblem,
        values: UnsafeBufferPointer<Float>,
        upstream: UnsafeMutableBufferPointer<Float>?,
        scratch: CPUScratch,
        workers: Int,
        tuning: CPUSortTuning = .standard,
        foregroundBests: ForegroundBests? = nil,
        nonFinite: NonFiniteFlag? = nil
    ) throws(LovaszError) -> Double {
        let plan = problem.plan
        let capacity = max(plan.largestGroup, 1)
        let hinge = problem.options.loss == .hinge
        // Many segments: one thread per segment. Few: every thread on each segment in turn.
        let splitting = workers > 1 && plan.segmentCount < tuning.splitBelow * workers
        let teams = splitting ? 1 : max(1, min(workers, plan.segmentCount))
        let perTeam = splitting ? workers : 1
        let maxChunks = splitting ? tuning.chunksPerWorker * workers : ParallelKeySort.streams
        let intsPerTeam = SortWorkspace.intCount(maxChunks: maxChunks, workers: perTeam)
        // Per team: both key buffers, then (for large segments) each worker's bucket space.
        let bucketScratch = capacity >= tuning.ownBucketScratchKeys ? perTeam * tuning.cacheResidentKeys : 0
        let keysPerTeam = 2 * capacity + bucketScratch
        // Records of the parts of segments split in a last round (at most one part per team).
        let partLayout = SegmentParts.Layout(capacity: capacity, walkChunk: tuning.walkChunk)
        let partRecords = teams > 1 ? teams * partLayout.recordSize : 0
        // Two slots per valid pixel for each segment whose two parts share their key pass
        // (``SharedPartKeys``): as many as the last round of a one-chunk plan leaves, when that
        // gives each two parts.
        let lastRound = teams > 1 && plan.segmentCount <= chunkSegments ? plan.segmentCount % teams : 0
        let sharedSegments = lastRound > 0 && teams / lastRound == 2 ? lastRound : 0
        let keys = try scratch.keys(capacity: keysPerTeam * teams + partRecords + 2 * capacity * sharedSegments)
        defer { scratch.returnKeys(keys) }
        let ints = try scratch.ints(capacity: intsPerTeam * teams)
        defer { scratch.returnInts(ints) }
        func workspace(_ team: Int) -> SortWorkspace {
            let first = keys.baseAddress! + keysPerTeam * team
            return SortWorkspace(
                keys: first, capacity: capacity,
                bucketScratch: bucketScratch > 0 ? (first + 2 * capacity, tuning.cacheResidentKeys) : nil,
                ints: ints.baseAddress! + intsPerTeam * team, maxChunks: maxChunks, workers: perTeam)
        }
        var total = 0.0
        // A chunk holds whole groups: at most chunkSegments + labelClasses - 1 segments, and
        // never more than the plan has (a small call allocates little).
        let chunkCapacity = min(plan.segmentCount, chunkSegments + problem.labels.labelClasses)
        var segments: [SegmentPlan.Segment] = []
        segments.reserveCapacity(chunkCapacity)
        var losses = [Double](repeating: 0, count: chunkCapacity)
        var order: [Int] = []
        var items: [(index: Int, part: Int)] = []
        var outcomes = [SegmentPartOutcome](repeating: SegmentPartOutcome(), count: teams)
        var nextGroup = 0
        problem.labels.classOf.withIndices { classOf in
            plan.validPixels.withOptionalBuffer { validPixels in
                while nextGroup < plan.groupCount {
                    let first = nextGroup
                    segments.removeAll(keepingCapacity: true)
                    while nextGroup < plan.groupCount && segments.count < chunkSegments {
                        plan.appendSegments(ofGroups: nextGroup ..< nextGroup + 1, to: &segments)
                        nextGroup += 1
                    }
                    let chunk = SegmentChunk(groups: first ..< nextGroup, segments: segments)
                    if let upstream { chunk.zeroUncovered(problem, upstream: upstream, workers: workers, tuning: tuning) }
                    // The hinge's keys of errors ≤ 0 add nothing to its loss or gradient: its keys
                    // stop at the last positive error, with no pass to find its last foreground
                    // key (the keys after it are dropped after the key pass, ``SegmentWork/run``).
                    let cuts = hinge ? [UInt64](repeating: SortKey.lastPositiveError, count: segments.count)
                        : foregroundBests.map { bests in
                            segments.map { bests.cut(of: $0, group: plan.group($0.group), validPixels: validPixels) }
                        } ?? chunk.foregroundCuts(
                            problem, values: values, classOf: classOf, validPixels: validPixels, workers: workers, tuning: tuning)
                    losses.withUnsafeMutableBufferPointer { losses in
                        func work(_ index: Int) -> SegmentWork {
                            SegmentWork(
                                problem: problem, segment: segments[index], values: values,
                                classOf: classOf, validPixels: validPixels, upstream: upstream, tuning: tuning,
                                nonFinite: nonFinite)
                        }
                        if splitting {
                            for index in segments.indices {
                                losses[index] = work(index).run(cut: cuts[index], workspace: workspace(0), workers: workers)
                            }
                            return
                        }
                        // Largest groups first, so that the last segments to finish are small.
                        order.removeAll(keepingCapacity: true)
                        order.append(contentsOf: segments.indices)
                        if teams > 1 {
                            let sizes = segments.map { plan.group($0.group).validCount }
                            order.sort { sizes[$0] > sizes[$1] }
                        }
                        // One item per whole segment (part -1), then one per part of each segment of
                        // a last round split by key range, its gradient plane zeroed first.
                        let split = lastRoundSplit(order: order, segments: segments, teams: teams, plan: plan, tuning: tuning)
                        items.removeAll(keepingCapacity: true)
                        for (position, index) in order.enumerated() {
                            if position < order.count - split.segments {
                                items.append((index, -1))
                            } else {
                                work(index).zeroPlane(
                                    chunks: GroupChunks(group: plan.group(segments[index].group), spatial: problem.shape.spatial,
                                                        chunks: 1, minimumPixels: 1),
                                    workers: 1)
                                for part in 0..<split.parts { items.append((index, part)) }
                            }
                        }
                        let records = keys.baseAddress! + keysPerTeam * teams
                        func record(_ item: Int) -> UnsafeMutablePointer<UInt64> {
                            records + (item - (order.count - split.segments)) * partLayout.recordSize
                        }
                        let sharedKeys = records + partRecords
                        let shared: [SharedPartKeys] = split.parts == 2 && split.segments <= sharedSegments
                            ? (0..<split.segments).map { s in
                                let segment = segments[order[order.count - split.segments + s]]
                                return SharedPartKeys(
                                    chunks: GroupChunks(
                                        group: plan.group(segment.group), spatial: problem.shape.spatial,
                                        chunks: SharedPartKeys.chunksPerPart * 2, minimumPixels: SharedPartKeys.minimumChunkPixels),
                                    low: sharedKeys + 2 * capacity * s, high: sharedKeys + 2 * capacity * s + capacity)
                            }
                            : []
                        outcomes.withUnsafeMutableBufferPointer { outcomes in
                            parallelForEach(count: items.count, workers: teams) { team, item in
                                let (index, part) = items[item]
                                if part < 0 {
                                    losses[index] = work(index).run(cut: cuts[index], workspace: workspace(team), workers: 1)
                                } else {
                                    let slot = item - (order.count - split.segments)
                                    outcomes[slot] = work(index).runPart(
                                        cut: cuts[index], part: part, of: split.parts, workspace: workspace(team),
                                        record: record(item), layout: partLayout,
                                        shared: shared.isEmpty ? nil : shared[slot / split.parts])
                                }
                            }
                            // The split segments' losses from their parts, in sorted order.
                            for s in 0..<split.segments {
                                let first = order.count - split.segments + s * split.parts
                                let index = items[first].index
                                losses[index] = SegmentParts.loss(
                                    UnsafeBufferPointer(rebasing: outcomes[s * split.parts ..< (s + 1) * split.parts]),
                                    records: { record(first + $0) }, layout: partLayout)
                            }
                        }
                    }
                    for (segment, value) in zip(segments, losses) { total += segment.weight * value }
                }
            }
        }
        return total
    }
}

extension SegmentSorter {
    /// How many of the last segments of `order` are split (``SegmentParts``), and into how many
    /// parts each: when the segments leave `r` of `teams` threads a last round of their own,
    /// those `r` segments take `teams / r` parts each, provided that is at least two and every
    /// one of them is large enough (``CPUSortTuning/splitLastRoundPixels``) and has foreground.
    static func lastRoundSplit(
        order: [Int], segments: [SegmentPlan.Segment], teams: Int, plan: SegmentPlan, tuning: CPUSortTuning
    ) -> (segments: Int, parts: Int) {
        let last = order.count % teams
        guard teams > 1, last > 0, teams / last >= 2 else { return (0, 1) }
        for index in order.suffix(last) {
            let segment = segments[index]
            guard segment.foregroundCount > 0, plan.group(segment.group).validCount >= tuning.splitLastRoundPixels
            else { return (0, 1) }
        }
        return (last, teams / last)
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
