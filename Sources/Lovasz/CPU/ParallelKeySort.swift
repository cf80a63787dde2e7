import CLovaszCPU

/// The MSD pass of one large segment, possibly on several threads: per-chunk histograms of
/// the most significant digit, one prefix over (digit, chunk), a stable scatter into buckets,
/// then the buckets sorted in parallel, in runs of neighbouring buckets
/// (``KeyRadixSort/sortBucket(_:scratch:count:highBit:histogram:cacheResident:)``).
///
/// Chunks are counted and scattered ``streams`` at a time by one thread, interleaved: float
/// digits have low entropy, so consecutive keys of one chunk mostly hit the same counter, and
/// each increment would wait for the one before it; four chunks give four independent chains.
enum ParallelKeySort {
    /// Chunks one thread counts and scatters at once (a segment sorted by one thread is split
    /// into this many chunks).
    static let streams = 4

    /// How far past a bucket's next free position (in keys) the scatter asks for the line ready
    /// to write (`prefetchw`) after each store: every (bucket, chunk) run is its own stream of
    /// stores, more of them than the hardware follows, into a buffer last used by an earlier
    /// segment or call. Measured in one process (alternating calls, Intel Xeon VM, against no
    /// prefetch): VOC per batch trained 1.061-1.113x (two threads), the hinge per batch random
    /// 1.001-1.109x (two threads) and 1.071-1.096x (one); 32 keys ahead 0.96-1.0x and 8 keys
    /// 0.96-1.02x against 16. (A hint past the buffer's end, at its last buckets, does nothing.)
    static let prefetchKeys = 16

    /// Sorts the keys chunk `c` left at `workspace.keys[chunkRanks[c] ..< chunkRanks[c] + chunkKept[c]]`
    /// (the chunks in rank order) into `workspace.scratch[0..<count]`.
    ///
    /// The top digit (at most ``KeyRadixSort/topDigitBits`` bits) lies just below `highBit`, one
    /// past the highest bit in which the keys differ; its width aims at buckets of
    /// ``CPUSortTuning/targetBucketAlone`` keys on one thread and ``CPUSortTuning/targetBucket``
    /// (as the keys see them) on several.
    ///
    /// - Parameter foreground: when given, the foreground keys of each run of `run` sorted keys
    ///   (`foreground.counts[k]` for positions `k·run ..< (k+1)·run`, zero on entry) are counted
    ///   as the buckets come out of the cache-resident sort.
    static func sort(
        workspace: SortWorkspace, chunks: Int, count: Int, highBit: Int, workers: Int, tuning: CPUSortTuning,
        foreground: (counts: UnsafeMutablePointer<Int64>, run: Int)? = nil
    ) {
        let tasks = (chunks + streams - 1) / streams
        func chunkRange(_ task: Int) -> Range<Int> { task * streams ..< min(chunks, (task + 1) * streams) }
        // One thread: a digit as wide as it takes for about `targetBucketAlone` keys per bucket,
        // widened for a large segment whose sampled keys crowd into buckets over
        // `crowdedBucket` keys as the keys see them (``sampledDigitBits``).
        // Several: counted on a fine digit first (about 64 keys per value on average), then
        // coarsened to the fewest bits whose buckets hold about `targetBucket` keys as the keys
        // see them (``digitBits``).
        let perValue = workers == 1 ? tuning.targetBucketAlone : 64
        let fineWanted = (count / perValue).bitWidth - (count / perValue).leadingZeroBitCount
        var fineBits = min(KeyRadixSort.topDigitBits, max(1, fineWanted), highBit - 32)
        if workers == 1 && count >= tuning.sampledDigitKeys {
            fineBits = max(fineBits, sampledDigitBits(workspace: workspace, chunks: chunks, highBit: highBit, limit: tuning.crowdedBucket))
        }
        let fineShift = UInt64(highBit - fineBits)
        let fineMask = UInt64((1 << fineBits) - 1)
        @inline(__always) func fineDigit(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &>> fineShift) & fineMask) }
        parallelForEach(count: tasks, workers: workers) { _, task in
            let range = chunkRange(task)
            for c in range { workspace.histogram(chunk: c).update(repeating: 0, count: 1 << fineBits) }
            var done = 0
            if range.count == streams {
                let four = FourChunks(workspace, first: range.lowerBound)
                done = four.shortest
                for i in 0..<done {
                    four.h0[fineDigit(four.k0[i])] &+= 1
                    four.h1[fineDigit(four.k1[i])] &+= 1
                    four.h2[fineDigit(four.k2[i])] &+= 1
                    four.h3[fineDigit(four.k3[i])] &+= 1
                }
            }
            for c in range {
                let histogram = workspace.histogram(chunk: c)
                let keys = workspace.keys + workspace.chunkRanks[c]
                for i in done ..< workspace.chunkKept[c] { histogram[fineDigit(keys[i])] &+= 1 }
            }
        }
        let bits = workers == 1
            ? fineBits
            : digitBits(workspace: workspace, chunks: chunks, count: count, fineBits: fineBits, target: tuning.targetBucket)
        let shift = UInt64(highBit - bits)
        let buckets = 1 << bits
        // The chunks' counts summed from the fine digit down to `bits` bits, in place.
        let group = 1 << (fineBits - bits)
        if group > 1 {
            for c in 0..<chunks {
                let histogram = workspace.histogram(chunk: c)
                for d in 0..<buckets {
                    var sum = 0
                    for j in d * group ..< (d + 1) * group { sum &+= histogram[j] }
                    histogram[d] = sum
                }
            }
        }
        makeOffsets(workspace: workspace, chunks: chunks, buckets: buckets)
        scatter(workspace: workspace, chunks: chunks, buckets: buckets, shift: shift, workers: workers, tuning: tuning)
        // Runs of whole buckets of about `runKeys` keys per item: items handed out one at a time
        // cost an atomic each, and a thread that sorts neighbouring buckets reads on where it
        // stopped.
        let runKeys = max(tuning.bucketRunKeys, count / (8 * workers))
        var runStarts = [0]
        var run = 0
        for d in 0..<buckets {
            run += workspace.bucketStarts[d + 1] - workspace.bucketStarts[d]
            if run >= runKeys {
                runStarts.append(d + 1)
                run = 0
            }
        }
        if runStarts.last! != buckets { runStarts.append(buckets) }
        let inner = Int(shift)
        parallelForEach(count: runStarts.count - 1, workers: workers) { worker, item in
            for d in runStarts[item] ..< runStarts[item + 1] {
                let start = workspace.bucketStarts[d]
                let n = workspace.bucketStarts[d + 1] - start
                guard n > 1 else { continue }
                // A large segment's bucket takes its LSD passes in the worker's own space, which
                // stays in L2 from bucket to bucket, not in the other key buffer's lines.
                var bucketScratch = workspace.keys + start
                if count >= tuning.ownBucketScratchKeys, let own = workspace.bucketScratch, n <= own.perWorker {
                    bucketScratch = own.keys + worker * own.perWorker
                }
                KeyRadixSort.sortBucket(
                    workspace.scratch + start, scratch: bucketScratch, count: n, highBit: inner,
                    histogram: workspace.bucketHistogram(worker: worker), cacheResident: tuning.cacheResidentKeys)
            }
            if let foreground {
                countForeground(
                    workspace.scratch, workspace.bucketStarts[runStarts[item]] ..< workspace.bucketStarts[runStarts[item + 1]],
                    into: foreground.counts, run: foreground.run)
            }
        }
    }
}

extension ParallelKeySort {
    /// The stable scatter of every chunk's keys into its runs of the top-level buckets, from
    /// `workspace.keys` into `workspace.scratch`, at the offsets ``makeOffsets(workspace:chunks:buckets:)``
    /// left in the chunks' histograms.
    ///
    /// Each task (``streams`` chunks, interleaved) is cut into items: blocks of
    /// ``CPUSortTuning/scatterBlockKeys`` positions of its chunks, then the chunks' tails. The
    /// task's thread takes items from the front, storing each run upward from its start; a
    /// thread that runs out of tasks helps another from the back, storing downward from the
    /// runs' ends (``SortWorkspace/chunkEnds``) in reverse order
    /// (``parallelForEachFromBothEnds(lists:items:workers:fromBack:front:back:)``). The keys land
    /// where one thread would have put them, whichever thread took which item. Measured against
    /// static halves (instrumented, Intel Xeon VM, two threads, the hinge per batch random): the
    /// threads' scatters ended 4-6 us apart instead of up to 180 us; the whole call 0.92-1.07x
    /// (median 1.01x, six processes), one thread and VOC per batch unchanged (1.00x).
    static func scatter(
        workspace: SortWorkspace, chunks: Int, buckets: Int, shift: UInt64, workers: Int, tuning: CPUSortTuning
    ) {
        let tasks = (chunks + streams - 1) / streams
        let fromBack = tuning.scatterItemsTakenFromBack
        if workers > 1 || fromBack > 0 {
            // The end of chunk c's run in bucket d is where chunk c + 1's starts (the offsets are
            // digit-major, then chunk), or the next bucket's start after the last chunk.
            for c in 0..<chunks {
                let ends = workspace.ends(chunk: c)
                if c + 1 < chunks {
                    ends.update(from: workspace.histogram(chunk: c + 1), count: buckets)
                } else {
                    ends.update(from: workspace.bucketStarts + 1, count: buckets)
                }
            }
        }
        let block = max(1, tuning.scatterBlockKeys)
        func task(_ t: Int) -> ScatterTask {
            ScatterTask(workspace, chunks: t * streams ..< min(chunks, (t + 1) * streams), shift: shift, buckets: buckets, block: block)
        }
        // Items of a task: its blocks, then its tails.
        parallelForEachFromBothEnds(
            lists: tasks, items: { task($0).blocks + 1 }, workers: workers, fromBack: fromBack,
            front: { t, item in
                let task = task(t)
                if item == task.blocks { task.tailsUpward() } else { task.blockUpward(item) }
            },
            back: { t, item in
                let task = task(t)
                if item == task.blocks { task.tailsDownward() } else { task.blockDownward(item) }
            })
    }
}

/// The chunks of one scatter task (``ParallelKeySort/scatter(workspace:chunks:buckets:shift:workers:tuning:)``):
/// their keys, start offsets (raised as keys are stored upward) and ends (lowered as keys are
/// stored downward), and how their positions divide into blocks (all four chunks' positions
/// `i` of a block interleaved, when the task has four chunks) and tails.
private struct ScatterTask {
    let chunks: Range<Int>
    let workspace: SortWorkspace
    let shift: UInt64
    let mask: UInt64
    let block: Int
    /// Positions below `shortest` are taken in blocks; above it, each chunk's tail.
    let shortest: Int
    let blocks: Int

    init(_ workspace: SortWorkspace, chunks: Range<Int>, shift: UInt64, buckets: Int, block: Int) {
        self.workspace = workspace
        self.chunks = chunks
        self.shift = shift
        self.mask = UInt64(buckets - 1)
        self.block = block
        shortest = chunks.count == ParallelKeySort.streams ? chunks.map { workspace.chunkKept[$0] }.min()! : 0
        blocks = (shortest + block - 1) / block
    }

    @inline(__always) func digit(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &>> shift) & mask) }
    @inline(__always) func keys(_ c: Int) -> UnsafeMutablePointer<UInt64> { workspace.keys + workspace.chunkRanks[c] }

    /// Stores `key` at `offsets[d]` and raises it.
    @inline(__always) func storeUpward(_ key: UInt64, _ offsets: UnsafeMutablePointer<Int>) {
        let d = digit(key)
        let at = offsets[d]
        workspace.scratch[at] = key
        offsets[d] = at &+ 1
        lovasz_cpu_prefetch_for_write(workspace.scratch + at + ParallelKeySort.prefetchKeys)
    }

    /// Lowers `ends[d]` and stores `key` there.
    @inline(__always) func storeDownward(_ key: UInt64, _ ends: UnsafeMutablePointer<Int>) {
        let d = digit(key)
        let at = ends[d] &- 1
        workspace.scratch[at] = key
        ends[d] = at
        lovasz_cpu_prefetch_for_write(workspace.scratch + max(0, at - ParallelKeySort.prefetchKeys))
    }

    func blockUpward(_ b: Int) {
        let c = chunks.lowerBound
        let (k0, k1, k2, k3) = (keys(c), keys(c + 1), keys(c + 2), keys(c + 3))
        let (o0, o1, o2, o3) = (
            workspace.histogram(chunk: c), workspace.histogram(chunk: c + 1), workspace.histogram(chunk: c + 2),
            workspace.histogram(chunk: c + 3))
        for i in b * block ..< min(shortest, (b + 1) * block) {
            storeUpward(k0[i], o0)
            storeUpward(k1[i], o1)
            storeUpward(k2[i], o2)
            storeUpward(k3[i], o3)
        }
    }

    func blockDownward(_ b: Int) {
        let c = chunks.lowerBound
        let (k0, k1, k2, k3) = (keys(c), keys(c + 1), keys(c + 2), keys(c + 3))
        let (e0, e1, e2, e3) = (
            workspace.ends(chunk: c), workspace.ends(chunk: c + 1), workspace.ends(chunk: c + 2), workspace.ends(chunk: c + 3))
        for i in (b * block ..< min(shortest, (b + 1) * block)).reversed() {
            storeDownward(k0[i], e0)
            storeDownward(k1[i], e1)
            storeDownward(k2[i], e2)
            storeDownward(k3[i], e3)
        }
    }

    func tailsUpward() {
        for c in chunks {
            let (k, offsets) = (keys(c), workspace.histogram(chunk: c))
            for i in shortest ..< workspace.chunkKept[c] { storeUpward(k[i], offsets) }
        }
    }

    func tailsDownward() {
        for c in chunks {
            let (k, ends) = (keys(c), workspace.ends(chunk: c))
            for i in (shortest ..< workspace.chunkKept[c]).reversed() { storeDownward(k[i], ends) }
        }
    }
}

extension ParallelKeySort {
    /// Adds the foreground keys (bit 0) of `keys[range]` to `counts[k]` for each run `k` of
    /// `run` positions the range meets; atomically, as a run may straddle two ranges sorted by
    /// different threads.
    static func countForeground(_ keys: UnsafeMutablePointer<UInt64>, _ range: Range<Int>, into counts: UnsafeMutablePointer<Int64>, run: Int) {
        var start = range.lowerBound
        while start < range.upperBound {
            let k = start / run
            let end = min(range.upperBound, (k + 1) * run)
            var n: UInt64 = 0
            for i in start..<end { n &+= keys[i] & 1 }
            lovasz_cpu_atomic_add(counts + k, Int64(n))
            start = end
        }
    }

    /// Keys sampled per key counted by ``sampledDigitBits(workspace:chunks:highBit:limit:)``.
    static let sampleStride = 16

    /// The fewest bits (at most ``KeyRadixSort/topDigitBits``) of a top digit whose buckets hold
    /// at most `limit` keys on average over the keys (`Σ size² / count`), estimated from every
    /// ``sampleStride``-th key of each chunk.
    static func sampledDigitBits(workspace: SortWorkspace, chunks: Int, highBit: Int, limit: Int) -> Int {
        let most = min(KeyRadixSort.topDigitBits, highBit - 32)
        let shift = UInt64(highBit - most), mask = UInt64((1 << most) - 1)
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 1 << most) { counts in
            counts.initialize(repeating: 0)
            var samples = 0
            for c in 0..<chunks {
                let keys = workspace.keys + workspace.chunkRanks[c]
                for i in stride(from: 0, to: workspace.chunkKept[c], by: sampleStride) {
                    counts[Int(truncatingIfNeeded: (keys[i] &>> shift) & mask)] &+= 1
                    samples += 1
                }
            }
            // Sampled sizes are 1/stride of the real ones: Σ size² / count ≈ stride · Σ s² / n.
            let bound = Double(limit) * Double(samples) / Double(sampleStride)
            return fewestBits(sizes: counts.baseAddress!, bits: most, limit: bound) ?? most
        }
    }

    /// The width of the top digit: the fewest bits (at most `fineBits`) for which a key's
    /// bucket holds at most `target` keys on average over the keys (`Σ size² / count`), from the
    /// chunks' counts of the `fineBits`-bit digit. Float keys crowd into a few exponents, so a
    /// width from the count alone leaves most keys in buckets many times the target.
    static func digitBits(workspace: SortWorkspace, chunks: Int, count: Int, fineBits: Int, target: Int) -> Int {
        // Totals per fine digit, in the bucket-start space (free until the offsets are made).
        let totals = workspace.bucketStarts
        let fine = 1 << fineBits
        totals.update(repeating: 0, count: fine)
        for c in 0..<chunks {
            let histogram = workspace.histogram(chunk: c)
            for d in 0..<fine { totals[d] &+= histogram[d] }
        }
        return fewestBits(sizes: totals, bits: fineBits, limit: Double(target) * Double(count)) ?? fineBits
    }
}

/// The keys and the top-digit histograms (counts, then offsets) of chunks `first ..< first + 4`
/// of a workspace, and the fewest keys any of them kept.
private struct FourChunks {
    let k0, k1, k2, k3: UnsafeMutablePointer<UInt64>
    let h0, h1, h2, h3: UnsafeMutablePointer<Int>
    let shortest: Int

    init(_ workspace: SortWorkspace, first c: Int) {
        k0 = workspace.keys + workspace.chunkRanks[c]
        k1 = workspace.keys + workspace.chunkRanks[c + 1]
        k2 = workspace.keys + workspace.chunkRanks[c + 2]
        k3 = workspace.keys + workspace.chunkRanks[c + 3]
        h0 = workspace.histogram(chunk: c)
        h1 = workspace.histogram(chunk: c + 1)
        h2 = workspace.histogram(chunk: c + 2)
        h3 = workspace.histogram(chunk: c + 3)
        shortest = (c ..< c + 4).map { workspace.chunkKept[$0] }.min()!
    }
}

extension ParallelKeySort {
    /// Turns the chunks' digit counts into exclusive offsets, digit-major then chunk (so that the
    /// scatter keeps rank order), and records where every bucket starts; every loop runs along
    /// a histogram row.
    static func makeOffsets(workspace: SortWorkspace, chunks: Int, buckets: Int) {
        let starts = workspace.bucketStarts
        starts.update(repeating: 0, count: buckets)
        for c in 0..<chunks {
            let histogram = workspace.histogram(chunk: c)
            for d in 0..<buckets { starts[d] &+= histogram[d] }
        }
        var sum = 0
        for d in 0..<buckets {
            let n = starts[d]
            starts[d] = sum
            sum &+= n
        }
        starts[buckets] = sum
        withUnsafeTemporaryAllocation(of: Int.self, capacity: buckets) { next in
            next.baseAddress!.update(from: starts, count: buckets)
            for c in 0..<chunks {
                let histogram = workspace.histogram(chunk: c)
                for d in 0..<buckets {
                    let n = histogram[d]
                    histogram[d] = next[d]
                    next[d] = next[d] &+ n
                }
            }
        }
    }

    /// The fewest bits `b` (1 ... `bits`) for which the buckets of the top `b` bits of a
    /// `bits`-bit digit have `Σ size² ≤ limit`, or `nil`, given the count of each digit value
    /// in `sizes` (overwritten: halved in place, from the widest digit down).
    static func fewestBits<Count: FixedWidthInteger>(sizes: UnsafeMutablePointer<Count>, bits: Int, limit: Double) -> Int? {
        var fewest: Int?
        var width = bits
        while width >= 1 {
            var squares = 0.0
            for d in 0 ..< 1 << width { squares += Double(sizes[d]) * Double(sizes[d]) }
            // Σ size² only grows as buckets merge: no narrower digit can pass once one fails.
            if squares > limit { break }
            fewest = width
            width -= 1
            for d in 0 ..< 1 << width { sizes[d] = sizes[2 * d] &+ sizes[2 * d + 1] }
        }
        return fewest
    }
}
