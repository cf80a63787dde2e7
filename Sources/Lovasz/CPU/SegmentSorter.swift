/// Sorts every segment of a plan and evaluates its Lovász loss and gradient on the CPU.
///
/// Only the pixels up to the last foreground pixel in sorted order are sorted: every pixel
/// after it is background with nothing left to intersect (`intersection = 0`), so its
/// gradient entry is exactly zero and it adds nothing to the loss. The result is the same as
/// sorting everything; the work shrinks to the pixels that matter.
enum SegmentSorter {
    /// The unweighted Lovász loss of each segment of `problem.plan`, in plan order.
    ///
    /// - Parameters:
    ///   - values: `[B, C, S]` probabilities (softmax, sigmoid) or the logits (hinge).
    ///   - upstream: when given, receives `weight · ∂lovasz/∂m · ∂m/∂x` at `[c][b·S + s]`, where
    ///     `x` is the probability (softmax, sigmoid) or the logit (hinge), for every pixel of
    ///     every segment's group (zero where the gradient is zero, ignored pixels included).
    static func run(
        _ problem: LossProblem,
        values: UnsafeBufferPointer<Float>,
        upstream: UnsafeMutableBufferPointer<Float>?,
        scratch: CPUScratch,
        workers: Int,
        tuning: CPUSortTuning = .standard
    ) -> [Double] {
        let plan = problem.plan
        let capacity = max(plan.largestGroup, 1)
        // Many segments: one thread per segment. Few: every thread on each segment in turn.
        let splitting = workers > 1 && plan.segments.count < tuning.splitBelow * workers
        let teams = splitting ? 1 : max(1, min(workers, plan.segments.count))
        let perTeam = splitting ? workers : 1
        let maxChunks = splitting ? tuning.chunksPerWorker * workers : 1
        let intsPerTeam = SortWorkspace.intCount(maxChunks: maxChunks, workers: perTeam)
        let keys = scratch.keys(capacity: 2 * capacity * teams)
        let ints = scratch.ints(capacity: intsPerTeam * teams)
        defer {
            scratch.returnKeys(keys)
            scratch.returnInts(ints)
        }
        func workspace(_ team: Int) -> SortWorkspace {
            SortWorkspace(
                keys: keys.baseAddress! + 2 * capacity * team, capacity: capacity,
                ints: ints.baseAddress! + intsPerTeam * team, maxChunks: maxChunks, workers: perTeam)
        }
        var losses = [Double](repeating: 0, count: plan.segments.count)
        problem.labels.classOf.withUnsafeBufferPointer { classOf in
            problem.plan.validPixels.withOptionalBuffer { validPixels in
                let cuts = foregroundCuts(
                    problem, values: values, classOf: classOf, validPixels: validPixels, workers: workers, tuning: tuning)
                losses.withUnsafeMutableBufferPointer { losses in
                    func work(_ index: Int) -> SegmentWork {
                        SegmentWork(
                            problem: problem, segment: plan.segments[index], values: values,
                            classOf: classOf, validPixels: validPixels, upstream: upstream, tuning: tuning)
                    }
                    if splitting {
                        for index in plan.segments.indices {
                            losses[index] = work(index).run(cut: cuts[index], workspace: workspace(0), workers: workers)
                        }
                        return
                    }
                    // Largest groups first, so that the last segments to finish are small.
                    let order = plan.segments.indices.sorted {
                        plan.groups[plan.segments[$0].group].validCount > plan.groups[plan.segments[$1].group].validCount
                    }
                    parallelForEach(count: order.count, workers: teams) { team, item in
                        let index = order[item]
                        losses[index] = work(index).run(cut: cuts[index], workspace: workspace(team), workers: 1)
                    }
                }
            }
        }
        return losses
    }

    /// The largest foreground key of every segment (0 without foreground): where its sort
    /// can stop. One pass over each group's pixels finds the cuts of all its classes; a group
    /// is split into chunks of pixels when there are fewer groups than threads.
    private static func foregroundCuts(
        _ problem: LossProblem, values: UnsafeBufferPointer<Float>, classOf: UnsafeBufferPointer<Int32>,
        validPixels: UnsafeBufferPointer<UInt32>?, workers: Int, tuning: CPUSortTuning
    ) -> [UInt64] {
        let plan = problem.plan
        let labelClasses = problem.labels.labelClasses
        let S = problem.shape.spatial, C = problem.shape.channels
        // label → (segment, channel) per group; the binary losses read channel 0 for label 1.
        var segmentOfLabel = [Int](repeating: -1, count: plan.groups.count * labelClasses)
        var channelOfLabel = [Int](repeating: 0, count: labelClasses)
        for (index, segment) in plan.segments.enumerated() {
            segmentOfLabel[segment.group * labelClasses + Int(segment.foregroundLabel)] = index
            channelOfLabel[Int(segment.foregroundLabel)] = segment.channel
        }
        let perGroup = plan.groups.count >= workers ? 1 : tuning.chunksPerWorker * workers
        let chunks = plan.groups.map {
            GroupChunks(group: $0, spatial: S, chunks: perGroup, minimumPixels: tuning.minimumChunkPixels)
        }
        var tasks: [(group: Int, chunk: Int)] = []
        for g in plan.groups.indices where plan.groups[g].validCount > 0 {
            for c in 0..<chunks[g].count { tasks.append((g, c)) }
        }
        var largest = [UInt64](repeating: 0, count: tasks.count * labelClasses)
        largest.withUnsafeMutableBufferPointer { largest in
            segmentOfLabel.withUnsafeBufferPointer { segmentOfLabel in
                channelOfLabel.withUnsafeBufferPointer { channelOfLabel in
                    parallelForEach(count: tasks.count, workers: workers) { _, t in
                        let (g, c) = tasks[t]
                        let group = plan.groups[g]
                        let counted = segmentOfLabel.baseAddress! + g * labelClasses
                        let found = largest.baseAddress! + t * labelClasses
                        let pixels = chunks[g].range(c)
                        var rank = GroupChunks.rank(atOffset: pixels.lowerBound, group: group, spatial: S, validPixels: validPixels)
                        var offset = pixels.lowerBound
                        while offset < pixels.upperBound {
                            let b = group.firstImage + offset / S
                            let start = offset % S, end = min(S, start + (pixels.upperBound - offset))
                            let labels = classOf.baseAddress! + b * S
                            let image = values.baseAddress! + b * C * S
                            for s in start..<end {
                                let label = Int(labels[s])
                                if label < 0 { continue }
                                if counted[label] >= 0 {
                                    // The foreground error is 1 - x for every loss (x: probability or logit).
                                    let error = 1 - image[channelOfLabel[label] * S + s]
                                    let key = SortKey.pack(error: error, rank: rank, foreground: true)
                                    if key > found[label] { found[label] = key }
                                }
                                rank += 1
                            }
                            offset += end - start
                        }
                    }
                }
            }
        }
        var cuts = [UInt64](repeating: 0, count: plan.segments.count)
        for (t, task) in tasks.enumerated() {
            for label in 0..<labelClasses {
                let index = segmentOfLabel[task.group * labelClasses + label]
                if index >= 0 { cuts[index] = max(cuts[index], largest[t * labelClasses + label]) }
            }
        }
        return cuts
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
