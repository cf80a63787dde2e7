extension OpenCLPipeline {
    /// Whether slots of `padded` keys are sorted by the radix sort (which sorts only the kept
    /// keys of each slot) rather than the bitonic sort (which sorts whole slots of a power of
    /// two, padded with sentinels): when a slot exceeds one work-group's local keys and the
    /// device runs the radix kernels.
    func sortsByRadix(padded: Int) -> Bool {
        stages.radixSort.isRunnable && padded > configuration.localKeys
    }

    /// Enqueues the sort of one chunk's segments of `padded` keys, each holding its kept keys
    /// in rank order, then (for the bitonic sort) sentinels: the bitonic sort when a segment
    /// fits one work-group's local keys (or the device cannot run the radix sort), else the
    /// radix sort of the kept keys only.
    ///
    /// - Parameters:
    ///   - total: keys in the chunk, a multiple of ``KernelConfiguration/localKeys``.
    ///   - kept: the kept count of each of the chunk's segments, at most `padded`.
    /// - Throws: ``OpenCLError`` from an allocation or launch.
    func enqueueSort(keys: CLBuffer, total: Int, padded: Int, kept: [UInt32]) throws(OpenCLError) {
        let radixSort = stages.radixSort
        guard sortsByRadix(padded: padded) else {
            try stages.sort.enqueueSort(keys: keys, total: total, padded: padded, on: queue)
            return
        }
        let ranges = kept.enumerated().map { k, count in k * padded ..< k * padded + Int(count) }
        try radixSort.enqueueSort(keys: keys, ranges: ranges, on: queue)
    }
}
