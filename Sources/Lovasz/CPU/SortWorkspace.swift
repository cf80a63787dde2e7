/// The memory one segment sort works in, taken from ``CPUScratch`` for the length of a call.
///
/// Keys are written at their rank (so that chunks of pixels fill their own ranges without
/// knowing how many keys the chunks before them keep), then scattered into `scratch`.
struct SortWorkspace {
    /// The most chunks one segment's pixels are split into.
    let maxChunks: Int
    /// Threads that may work on one segment at once.
    let workers: Int
    /// `capacity` keys, indexed by rank.
    private(set) var keys: UnsafeMutablePointer<UInt64>
    /// `capacity` keys: the other buffer of the sort.
    private(set) var scratch: UnsafeMutablePointer<UInt64>
    /// Per worker, `perWorker` keys of working space for the LSD passes of a top-level bucket.
    let bucketScratch: (keys: UnsafeMutablePointer<UInt64>, perWorker: Int)?
    /// Per chunk, the counts (then offsets) of the most significant digit.
    let chunkHistograms: UnsafeMutablePointer<Int>
    /// Per chunk, where each top-level digit's keys of the chunk end in the scatter (filled
    /// downward by a thread that helps scatter another's chunks from their ends).
    let chunkEnds: UnsafeMutablePointer<Int>
    /// The start of every top-level bucket, and the end of the last.
    let bucketStarts: UnsafeMutablePointer<Int>
    /// ``KeyRadixSort/bucketHistogramSize`` integers per worker.
    let bucketHistograms: UnsafeMutablePointer<Int>
    /// Per chunk: first rank, keys kept, AND and OR of the kept keys (bit patterns), foreground
    /// keys kept.
    let chunkRanks: UnsafeMutablePointer<Int>
    let chunkKept: UnsafeMutablePointer<Int>
    let chunkAnd: UnsafeMutablePointer<Int>
    let chunkOr: UnsafeMutablePointer<Int>
    let chunkForeground: UnsafeMutablePointer<Int>

    /// Integers of `ints` memory a workspace needs.
    static func intCount(maxChunks: Int, workers: Int) -> Int {
        maxChunks * (2 * KeyRadixSort.topBuckets + 5) + KeyRadixSort.topBuckets + 1
            + workers * KeyRadixSort.bucketHistogramSize
    }

    /// Carves a workspace out of `keys` (`2 · capacity` elements) and `ints`
    /// (``intCount(maxChunks:workers:)`` elements); `bucketScratch`, when given, is `workers`
    /// blocks of `perWorker` keys apart from both.
    init(
        keys: UnsafeMutablePointer<UInt64>, capacity: Int,
        bucketScratch: (keys: UnsafeMutablePointer<UInt64>, perWorker: Int)? = nil,
        ints: UnsafeMutablePointer<Int>, maxChunks: Int, workers: Int
    ) {
        self.bucketScratch = bucketScratch
        self.maxChunks = maxChunks
        self.workers = workers
        self.keys = keys
        self.scratch = keys + capacity
        chunkHistograms = ints
        chunkEnds = ints + maxChunks * KeyRadixSort.topBuckets
        bucketStarts = chunkEnds + maxChunks * KeyRadixSort.topBuckets
        bucketHistograms = bucketStarts + KeyRadixSort.topBuckets + 1
        chunkRanks = bucketHistograms + workers * KeyRadixSort.bucketHistogramSize
        chunkKept = chunkRanks + maxChunks
        chunkAnd = chunkKept + maxChunks
        chunkOr = chunkAnd + maxChunks
        chunkForeground = chunkOr + maxChunks
    }

    /// This workspace with its sort's keys read from `keys` (as many slots as ``keys``), and its
    /// own keys buffer as the other buffer of the sort.
    func sortingFrom(_ keys: UnsafeMutablePointer<UInt64>) -> SortWorkspace {
        var copy = self
        copy.scratch = self.keys
        copy.keys = keys
        return copy
    }

    /// The top-digit histogram of chunk `c`.
    func histogram(chunk c: Int) -> UnsafeMutablePointer<Int> { chunkHistograms + c * KeyRadixSort.topBuckets }

    /// The ends of chunk `c`'s runs in the top-level buckets (``chunkEnds``).
    func ends(chunk c: Int) -> UnsafeMutablePointer<Int> { chunkEnds + c * KeyRadixSort.topBuckets }

    /// The histogram space of worker `w` for bucket sorts.
    func bucketHistogram(worker w: Int) -> UnsafeMutablePointer<Int> { bucketHistograms + w * KeyRadixSort.bucketHistogramSize }
}

/// How the pixels of a group are split into chunks, and the rank each chunk starts at.
struct GroupChunks {
    /// Pixels of the group, ignored ones included.
    let pixels: Int
    let count: Int
    /// `chunks` chunks, fewer when the group is small: none under `minimumPixels` pixels.
    init(group: SegmentPlan.Group, spatial: Int, chunks: Int, minimumPixels: Int) {
        pixels = group.imageCount * spatial
        count = max(1, min(chunks, pixels / max(1, minimumPixels)))
    }

    /// The pixel offsets (within the group) of chunk `c`.
    func range(_ c: Int) -> Range<Int> { c * pixels / count ..< (c + 1) * pixels / count }

    /// The rank of the first valid pixel at or after group offset `offset`.
    static func rank(
        atOffset offset: Int, group: SegmentPlan.Group, spatial: Int, validPixels: UnsafeBufferPointer<UInt32>?
    ) -> Int {
        guard let validPixels else { return offset }
        let target = UInt32(truncatingIfNeeded: group.firstImage * spatial + offset)
        var low = group.validOffset, high = group.validOffset + group.validCount
        while low < high {
            let middle = (low + high) / 2
            if validPixels[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low - group.validOffset
    }
}
