import CLovaszCPU

/// Consecutive groups of a plan and their segments, in plan order: the unit the CPU path
/// plans, cuts and sorts at a time.
struct SegmentChunk {
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

    /// Zeroes the upstream ranges of every (group, channel) of the chunk without a segment
    /// (large ones with non-temporal stores, ``CPUSortTuning/streamingZeroPixels``); the
    /// segments write (and zero) their own ranges.
    func zeroUncovered(
        _ problem: LossProblem, upstream: UnsafeMutableBufferPointer<Float>, workers: Int, tuning: CPUSortTuning
    ) {
        let shape = problem.shape
        var covered = [Bool](repeating: false, count: shape.channels)
        var ranges: [(group: Int, channel: Int)] = []
        for local in 0..<groups.count {
            for index in starts[local] ..< starts[local + 1] { covered[segments[index].channel] = true }
            for channel in 0..<shape.channels where !covered[channel] { ranges.append((groups.lowerBound + local, channel)) }
            for index in starts[local] ..< starts[local + 1] { covered[segments[index].channel] = false }
        }
        let imagesPerGroup = problem.plan.imagesPerGroup
        let length = imagesPerGroup * shape.spatial
        // Tiny ranges: several per task.
        let perTask = max(1, (1 << 14) / max(1, length))
        parallelChunks(count: ranges.count, chunk: perTask, workers: workers) { items in
            for index in items {
                let (g, channel) = ranges[index]
                let start = channel * shape.pixelCount + g * length
                if length >= tuning.streamingZeroPixels {
                    lovasz_cpu_zero_streaming(upstream.baseAddress! + start, length)
                } else {
                    (upstream.baseAddress! + start).update(repeating: 0, count: length)
                }
            }
        }
    }

    /// The largest foreground key of every segment of the chunk (0 without foreground): where
    /// its sort can stop.
    ///
    /// One pass over each group's pixels finds the cuts of all its classes; a group is split
    /// into chunks of pixels when the chunk has fewer groups than threads. With `binaryScan`,
    /// the binary losses take ``binaryForegroundCuts`` (the same cuts; tests compare the two).
    func foregroundCuts(
        _ problem: LossProblem, values: UnsafeBufferPointer<Float>, classOf: ClassIndices,
        validPixels: UnsafeBufferPointer<UInt32>?, workers: Int, tuning: CPUSortTuning,
        binaryScan: Bool = true
    ) -> [UInt64] {
        let plan = problem.plan
        let labelClasses = problem.labels.labelClasses
        let S = problem.shape.spatial, C = problem.shape.channels
        let perGroup = groups.count >= workers ? 1 : tuning.chunksPerWorker * workers
        if binaryScan && !problem.shape.isSoftmax && S < 1 << 31 {
            return binaryForegroundCuts(
                problem, values: values, classOf: classOf, validPixels: validPixels, workers: workers, tuning: tuning)
        }
        // Tasks: (group, chunk of its pixels, first slot); a task's slots hold the largest
        // key of each segment of its group, in segment order.
        var tasks: [(local: Int, chunk: GroupChunks, part: Int, slot: Int)] = []
        var slots = 0
        for local in 0..<groups.count where starts[local] < starts[local + 1] {
            let group = plan.group(groups.lowerBound + local)
            let chunks = perGroup == 1
                ? GroupChunks(group: group, spatial: S, chunks: 1, minimumPixels: 1)
                : GroupChunks(group: group, spatial: S, chunks: perGroup, minimumPixels: tuning.minimumChunkPixels)
            for part in 0..<chunks.count {
                tasks.append((local, chunks, part, slots))
                slots += starts[local + 1] - starts[local]
            }
        }
        let threads = max(1, min(workers, tasks.count))
        // Per worker: label → segment slot (-1: none), label → channel.
        var slotOfLabel = [Int](repeating: -1, count: labelClasses * threads)
        var channelOfLabel = [Int](repeating: 0, count: labelClasses * threads)
        var largest = [UInt64](repeating: 0, count: slots)
        slotOfLabel.withUnsafeMutableBufferPointer { slotOfLabel in
            channelOfLabel.withUnsafeMutableBufferPointer { channelOfLabel in
                largest.withUnsafeMutableBufferPointer { largest in
                    parallelForEach(count: tasks.count, workers: threads) { worker, t in
                        let task = tasks[t]
                        let segmentRange = starts[task.local] ..< starts[task.local + 1]
                        let slotOf = slotOfLabel.baseAddress! + worker * labelClasses
                        let channelOf = channelOfLabel.baseAddress! + worker * labelClasses
                        let found = largest.baseAddress! + task.slot
                        // The binary losses read channel 0 for label 1.
                        for index in segmentRange {
                            let segment = segments[index]
                            let label = Int(segment.foregroundLabel)
                            slotOf[label] = index - segmentRange.lowerBound
                            channelOf[label] = segment.channel
                        }
                        let group = plan.group(groups.lowerBound + task.local)
                        let pixels = task.chunk.range(task.part)
                        var rank = GroupChunks.rank(atOffset: pixels.lowerBound, group: group, spatial: S, validPixels: validPixels)
                        var offset = pixels.lowerBound
                        while offset < pixels.upperBound {
                            let b = group.firstImage + offset / S
                            let start = offset % S, end = min(S, start + (pixels.upperBound - offset))
                            let labels = classOf.advanced(by: b * S)
                            let image = values.baseAddress! + b * C * S
                            for s in start..<end {
                                let label = Int(labels[s])
                                if label < 0 { continue }
                                let slot = slotOf[label]
                                if slot >= 0 {
                                    // The foreground error is 1 - x for every loss (x: probability or logit).
                                    let error = 1 - image[channelOf[label] * S + s]
                                    let key = SortKey.pack(error: error, rank: rank, foreground: true)
                                    if key > found[slot] { found[slot] = key }
                                }
                                rank += 1
                            }
                            offset += end - start
                        }
                        for index in segmentRange { slotOf[Int(segments[index].foregroundLabel)] = -1 }
                    }
                }
            }
        }
        var cuts = [UInt64](repeating: 0, count: segments.count)
        for task in tasks {
            let first = starts[task.local]
            for index in first ..< starts[task.local + 1] {
                cuts[index] = max(cuts[index], largest[task.slot + index - first])
            }
        }
        return cuts
    }

    /// ``foregroundCuts(_:values:classOf:validPixels:workers:tuning:)`` for the binary losses
    /// (the sigmoid: the hinge's sort takes no cut scan; not a softmax of two classes): at most
    /// one segment per group (label 1,
    /// channel 0), each image run of a task scanned by
    /// `lovasz_cpu_foreground_best` (eight pixels at a time with AVX2).
    private func binaryForegroundCuts(
        _ problem: LossProblem, values: UnsafeBufferPointer<Float>, classOf: ClassIndices,
        validPixels: UnsafeBufferPointer<UInt32>?, workers: Int, tuning: CPUSortTuning
    ) -> [UInt64] {
        let plan = problem.plan
        let S = problem.shape.spatial, C = problem.shape.channels
        let perGroup = groups.count >= workers ? 1 : tuning.chunksPerWorker * workers
        var tasks: [(segment: Int, chunk: GroupChunks, part: Int)] = []
        for local in 0..<groups.count where starts[local] < starts[local + 1] {
            let group = plan.group(groups.lowerBound + local)
            let chunks = perGroup == 1
                ? GroupChunks(group: group, spatial: S, chunks: 1, minimumPixels: 1)
                : GroupChunks(group: group, spatial: S, chunks: perGroup, minimumPixels: tuning.minimumChunkPixels)
            for part in 0..<chunks.count { tasks.append((starts[local], chunks, part)) }
        }
        var found = [UInt64](repeating: 0, count: tasks.count)
        found.withUnsafeMutableBufferPointer { found in
            parallelForEach(count: tasks.count, workers: max(1, min(workers, tasks.count))) { _, t in
                let task = tasks[t]
                let segment = segments[task.segment]
                let group = plan.group(segment.group)
                let pixels = task.chunk.range(task.part)
                var best: UInt64 = 0
                var offset = pixels.lowerBound
                while offset < pixels.upperBound {
                    let b = group.firstImage + offset / S
                    let start = offset % S, end = min(S, start + (pixels.upperBound - offset))
                    let run = lovasz_cpu_foreground_best(
                        values.baseAddress! + (b * C + segment.channel) * S + start, classOf.advanced(by: b * S + start).pointers,
                        end - start, segment.foregroundLabel, UInt64(start))
                    if run != 0 {
                        let pixel = Int(truncatingIfNeeded: run & 0xFFFF_FFFF)
                        let rank = GroupChunks.rank(
                            atOffset: (b - group.firstImage) * S + pixel, group: group, spatial: S, validPixels: validPixels)
                        best = max(best, (run & 0xFFFF_FFFF_0000_0000) | UInt64(rank) << 1 | 1)
                    }
                    offset += end - start
                }
                found[t] = best
            }
        }
        var cuts = [UInt64](repeating: 0, count: segments.count)
        for (task, best) in zip(tasks, found) { cuts[task.segment] = max(cuts[task.segment], best) }
        return cuts
    }
}
