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
        countDigits(workspace: workspace, chunks: chunks, shift: fineShift, bits: fineBits, workers: workers, tuning: tuning)
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
    /// Counts every chunk's keys by the `bits`-bit digit at `shift` into its histogram, in tasks
    /// of ``streams`` chunks cut into items as the scatter's are; a thread out of tasks helps
    /// another from the back, counting into the task's chunks' ``SortWorkspace/chunkEnds`` (free
    /// until the scatter), which are added to the histograms afterwards.
    static func countDigits(workspace: SortWorkspace, chunks: Int, shift: UInt64, bits: Int, workers: Int, tuning: CPUSortTuning) {
        let tasks = (chunks + streams - 1) / streams
        let values = 1 << bits
        let block = max(1, tuning.msdBlockKeys)
        func task(_ t: Int) -> MSDTask {
            MSDTask(workspace, chunks: t * streams ..< min(chunks, (t + 1) * streams), shift: shift, buckets: values, block: block)
        }
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: tasks) { helped in
            helped.initialize(repeating: false)
            parallelForEachFromBothEnds(
                lists: tasks, items: { task($0).blocks + 1 }, workers: workers, fromBack: tuning.msdItemsTakenFromBack,
                begin: { t in
                    for c in task(t).chunks { workspace.histogram(chunk: c).update(repeating: 0, count: values) }
                },
                front: { t, item in task(t).count(item, fromBack: false) },
                back: { t, item in
                    let task = task(t)
                    // The first item taken from the back is the last (the tails).
                    if item == task.blocks {
                        for c in task.chunks { workspace.ends(chunk: c).update(repeating: 0, count: values) }
                        helped[t] = true
                    }
                    task.count(item, fromBack: true)
                })
            for t in 0..<tasks where helped[t] {
                for c in task(t).chunks {
                    let (histogram, more) = (workspace.histogram(chunk: c), workspace.ends(chunk: c))
                    for d in 0..<values { histogram[d] &+= more[d] }
                }
            }
        }
    }

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
        let fromBack = tuning.msdItemsTakenFromBack
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
        let block = max(1, tuning.msdBlockKeys)
        func task(_ t: Int) -> MSDTask {
            MSDTask(workspace, chunks: t * streams ..< min(chunks, (t + 1) * streams), shift: shift, buckets: buckets, block: block)
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

/// The chunks of one task of the MSD pass's count and scatter
/// (``ParallelKeySort/scatter(workspace:chunks:buckets:shift:workers:tuning:)``): their keys,
/// start offsets (raised as keys are stored upward) and ends (lowered as keys are stored
/// downward), and how their positions divide into blocks (all four chunks' positions `i` of a
/// block interleaved, when the task has four chunks: float digits have low entropy, and four
/// chunks give four independent chains of increments) and tails.
private struct MSDTask {
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

    /// Counts the digits of item `item`'s keys (a block, or the tails) into the chunks'
    /// histograms, or their ends tables when taken `fromBack`.
    func count(_ item: Int, fromBack: Bool) {
        func table(_ c: Int) -> UnsafeMutablePointer<Int> { fromBack ? workspace.ends(chunk: c) : workspace.histogram(chunk: c) }
        if item == blocks {
            for c in chunks {
                let (k, h) = (keys(c), table(c))
                for i in shortest ..< workspace.chunkKept[c] { h[digit(k[i])] &+= 1 }
            }
            return
        }
        let c = chunks.lowerBound
        let (k0, k1, k2, k3) = (keys(c), keys(c + 1), keys(c + 2), keys(c + 3))
        let (h0, h1, h2, h3) = (table(c), table(c + 1), table(c + 2), table(c + 3))
        for i in item * block ..< min(shortest, (item + 1) * block) {
            h0[digit(k0[i])] &+= 1
            h1[digit(k1[i])] &+= 1
            h2[digit(k2[i])] &+= 1
            h3[digit(k3[i])] &+= 1
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
