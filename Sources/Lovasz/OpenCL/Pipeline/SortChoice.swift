extension OpenCLPipeline {
    /// Enqueues the sort of one chunk's segments of `padded` keys, each holding its kept keys
    /// in rank order followed by sentinels: the bitonic sort when a segment fits one
    /// work-group's local keys (or the device cannot run the radix sort), else the radix sort
    /// of the kept keys only (the sentinels already sort last).
    ///
    /// - Parameters:
    ///   - total: keys in the chunk, a multiple of ``KernelConfiguration/localKeys``.
    ///   - kept: the kept count of each of the chunk's segments, at most `padded`.
    /// - Throws: ``OpenCLError`` from an allocation or launch.
    func enqueueSort(keys: CLBuffer, total: Int, padded: Int, kept: [UInt32]) throws(OpenCLError) {
        let radixSort = stages.radixSort
        guard radixSort.isRunnable, padded > configuration.localKeys else {
            try stages.sort.enqueueSort(keys: keys, total: total, padded: padded, on: queue)
            return
        }
        let ranges = kept.enumerated().map { k, count in k * padded ..< k * padded + Int(count) }
        try radixSort.enqueueSort(keys: keys, ranges: ranges, on: queue)
    }
}
