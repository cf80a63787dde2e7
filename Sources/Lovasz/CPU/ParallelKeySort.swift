/// The sort of one large segment on several threads: per-chunk histograms of the most
/// significant digit, one prefix over (digit, chunk), a parallel stable scatter into buckets,
/// then the buckets sorted in parallel (``KeyRadixSort/sortBucket(_:scratch:count:highBit:histogram:)``).
enum ParallelKeySort {
    /// Sorts the keys chunk `c` left at `workspace.keys[chunkRanks[c] ..< chunkRanks[c] + chunkKept[c]]`
    /// (the chunks in rank order) into `workspace.scratch[0..<count]`.
    ///
    /// The top digit is as wide as it takes for buckets of about ``CPUSortTuning/targetBucket`` keys on
    /// average (at most ``KeyRadixSort/topDigitBits`` bits), just below `highBit`, one past
    /// the highest bit in which the keys differ.
    static func sort(
        workspace: SortWorkspace, chunks: Int, count: Int, highBit: Int, workers: Int, tuning: CPUSortTuning
    ) {
        let wanted = (count / tuning.targetBucket).bitWidth - (count / tuning.targetBucket).leadingZeroBitCount
        let bits = min(KeyRadixSort.topDigitBits, max(1, wanted), highBit - 32)
        let shift = UInt64(highBit - bits)
        let buckets = 1 << bits
        let mask = UInt64(buckets - 1)
        @inline(__always) func digit(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &>> shift) & mask) }
        parallelForEach(count: chunks, workers: workers) { _, c in
            let histogram = workspace.histogram(chunk: c)
            histogram.update(repeating: 0, count: buckets)
            let keys = workspace.keys + workspace.chunkRanks[c]
            for i in 0..<workspace.chunkKept[c] { histogram[digit(keys[i])] &+= 1 }
        }
        // Exclusive offsets, digit-major then chunk: the scatter keeps rank order.
        var sum = 0
        for d in 0..<buckets {
            workspace.bucketStarts[d] = sum
            for c in 0..<chunks {
                let histogram = workspace.histogram(chunk: c)
                let n = histogram[d]
                histogram[d] = sum
                sum += n
            }
        }
        workspace.bucketStarts[buckets] = sum
        parallelForEach(count: chunks, workers: workers) { _, c in
            let offsets = workspace.histogram(chunk: c)
            let keys = workspace.keys + workspace.chunkRanks[c]
            let destination = workspace.scratch
            for i in 0..<workspace.chunkKept[c] {
                let key = keys[i]
                let d = digit(key)
                destination[offsets[d]] = key
                offsets[d] &+= 1
            }
        }
        let inner = Int(shift)
        parallelForEach(count: buckets, workers: workers) { worker, d in
            let start = workspace.bucketStarts[d]
            let n = workspace.bucketStarts[d + 1] - start
            guard n > 1 else { return }
            KeyRadixSort.sortBucket(
                workspace.scratch + start, scratch: workspace.keys + start, count: n, highBit: inner,
                histogram: workspace.bucketHistogram(worker: worker), cacheResident: tuning.cacheResidentKeys)
        }
    }
}
