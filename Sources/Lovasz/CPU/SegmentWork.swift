import CLovaszCPU

/// The work on one segment: keys up to the cut, their sort, and the walk of Algorithm 1.
///
/// Every phase is split into tasks (chunks of pixels, buckets, chunks of sorted keys) that run
/// on `workers` threads; with one worker the same tasks run in order. The loss is summed per
/// chunk of ``CPUSortTuning/walkChunk`` sorted keys and the chunk sums added in order, so the result does
/// not depend on the number of threads.
struct SegmentWork {
    let segment: SegmentPlan.Segment
    let group: SegmentPlan.Group
    let values: UnsafeBufferPointer<Float>
    let classOf: ClassIndices
    let validPixels: UnsafeBufferPointer<UInt32>?
    /// The segment's class plane of the upstream buffer, `[b·S + s]`.
    let plane: UnsafeMutablePointer<Float>?
    let spatial: Int
    let channels: Int
    let hinge: Bool
    let tuning: CPUSortTuning
    /// Set when a key pass reads a NaN or infinite score (every pixel's, ignored ones
    /// included), for calls whose key passes validate the scores (``NonFiniteFlag``).
    let nonFinite: NonFiniteFlag?

    init(
        problem: LossProblem, segment: SegmentPlan.Segment, values: UnsafeBufferPointer<Float>,
        classOf: ClassIndices, validPixels: UnsafeBufferPointer<UInt32>?,
        upstream: UnsafeMutableBufferPointer<Float>?, tuning: CPUSortTuning, nonFinite: NonFiniteFlag? = nil
    ) {
        self.nonFinite = nonFinite
        self.segment = segment
        self.group = problem.plan.group(segment.group)
        self.values = values
        self.classOf = classOf
        self.validPixels = validPixels
        self.plane = upstream.map { $0.baseAddress! + segment.channel * problem.shape.pixelCount }
        self.spatial = problem.shape.spatial
        self.channels = problem.shape.channels
        self.hinge = problem.options.loss == .hinge
        self.tuning = tuning
    }

    @inline(__always)
    func pixel(ofRank rank: Int) -> Int {
        if let validPixels { return Int(validPixels[group.validOffset + rank]) }
        return group.firstImage * spatial + rank
    }

    /// The segment's unweighted loss; writes its gradient into ``plane``.
    ///
    /// - Parameters:
    ///   - cut: the segment's largest foreground key (from the cut pass).
    ///   - workers: threads for this segment (the workspace must have been made for as many).
    func run(cut: UInt64, workspace: SortWorkspace, workers: Int) -> Double {
        let chunks = GroupChunks(
            group: group, spatial: spatial, chunks: workspace.maxChunks,
            minimumPixels: tuning.minimumChunkPixels)
        if segment.foregroundCount == 0 {
            zeroPlane(chunks: chunks, workers: workers)
            return runWithoutForeground()
        }
        // Keys up to the cut, written at their rank, then the chunk's part of the plane zeroed:
        // with ordinary stores where threads share the walk and it will write most of the
        // chunk's lines (``CPUSortTuning/cachedZeroPixelsPerKey``). Chunks in contiguous shares
        // per thread, as the label map splits the images: a thread reads the class-map lines it
        // wrote itself (the hinge per batch on trained logits, two threads, alternating processes
        // against chunks handed out one at a time: 1.016x and 1.040x by the pairs' medians, 20
        // and 16 pairs; one thread unchanged).
        parallelForEachInShares(count: chunks.count, workers: workers) { c in
            let range = chunks.range(c)
            let rank = GroupChunks.rank(atOffset: range.lowerBound, group: group, spatial: spatial, validPixels: validPixels)
            let made = createKeys(pixels: range, rank: rank, keys: workspace.keys + rank, cut: cut)
            zeroPlane(range, of: chunks, streaming: workers == 1 || made.kept * tuning.cachedZeroPixelsPerKey < range.count)
            workspace.chunkRanks[c] = rank
            workspace.chunkKept[c] = made.kept
            workspace.chunkAnd[c] = Int(bitPattern: UInt(made.and))
            workspace.chunkOr[c] = Int(bitPattern: UInt(made.or))
            workspace.chunkForeground[c] = made.keptForeground
        }
        var keptForeground = 0
        for c in 0..<chunks.count { keptForeground += workspace.chunkForeground[c] }
        // The hinge's cut is its last positive error, not its last foreground key: when every
        // foreground key is kept, the keys after the last of them (background, gradient
        // exactly zero) are dropped before the sort.
        if hinge && keptForeground == segment.foregroundCount {
            dropKeysAfterLastForeground(chunks: chunks.count, workspace: workspace, workers: workers)
        }
        var count = 0, andBits = UInt64.max, orBits: UInt64 = 0
        for c in 0..<chunks.count {
            count += workspace.chunkKept[c]
            andBits &= UInt64(UInt(bitPattern: workspace.chunkAnd[c]))
            orBits |= UInt64(UInt(bitPattern: workspace.chunkOr[c]))
        }
        let highBit = KeyRadixSort.highBit(varying: andBits ^ orBits)
        return sortAndWalk(count: count, highBit: highBit, chunks: chunks.count, workspace: workspace, workers: workers)
    }

    /// Sorts the `count` keys the key pass left in `workspace` (chunk `c`'s at
    /// `keys[chunkRanks[c]...]`), whose key words differ below `highBit` only, and walks them.
    func sortAndWalk(count: Int, highBit: Int, chunks: Int, workspace: SortWorkspace, workers: Int) -> Double {
        let walkChunks = (count + tuning.walkChunk - 1) / tuning.walkChunk
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: walkChunks) { foreground in
            foreground.initialize(repeating: 0)
            let counted = sharesWalkSendingAway(count: count, workers: workers)
                && count > sortsInOnePiece(count: count, highBit: highBit) && highBit > 32
            let sorted = sort(
                count: count, highBit: highBit, chunks: chunks, workspace: workspace, workers: workers,
                foreground: counted ? (foreground.baseAddress!, tuning.walkChunk) : nil)
            let r = walk(
                sorted: sorted, count: count, workers: workers,
                sendingAway: (spare: sorted == workspace.keys ? workspace.scratch : workspace.keys,
                              foregroundPerChunk: counted ? UnsafePointer(foreground.baseAddress!) : nil))
            return r
        }
    }

    /// The most keys ``sort(count:highBit:chunks:workspace:workers:foreground:)`` sorts as one
    /// cache-resident piece (no MSD pass over chunks).
    func sortsInOnePiece(count: Int, highBit: Int) -> Int {
        // Keys whose words vary in more than two digits take LSD passes without an MSD pass up to
        // a larger size (``CPUSortTuning/topBitsFirstSegmentKeys``).
        let wide = highBit - 32 > 2 * KeyRadixSort.widestDigit && count <= tuning.topBitsFirstSegmentKeys
        return wide ? max(tuning.cacheResidentKeys, count) : tuning.cacheResidentKeys
    }

    /// Sorts the keys as ``sortAndWalk(count:highBit:chunks:workspace:workers:)`` does; returns
    /// the buffer that holds them sorted (`workspace.keys` or `workspace.scratch`).
    func sort(
        count: Int, highBit: Int, chunks: Int, workspace: SortWorkspace, workers: Int,
        foreground: (counts: UnsafeMutablePointer<Int64>, run: Int)? = nil
    ) -> UnsafeMutablePointer<UInt64> {
        let sorted: UnsafeMutablePointer<UInt64>
        let resident = sortsInOnePiece(count: count, highBit: highBit)
        if count <= resident || highBit == 32 {
            var end = workspace.chunkKept[0]
            for c in 1..<chunks {
                let kept = workspace.chunkKept[c]
                (workspace.keys + end).update(from: workspace.keys + workspace.chunkRanks[c], count: kept)
                end += kept
            }
            if count <= SegmentSorter.smallGroup {
                insertionSort(workspace.keys, count: count)
            } else {
                KeyRadixSort.sortBucket(
                    workspace.keys, scratch: workspace.scratch, count: count, highBit: highBit,
                    histogram: workspace.bucketHistogram(worker: 0), cacheResident: resident)
            }
            sorted = workspace.keys
        } else {
            ParallelKeySort.sort(
                workspace: workspace, chunks: chunks, count: count, highBit: highBit, workers: workers, tuning: tuning,
                foreground: foreground)
            sorted = workspace.scratch
        }
        return sorted
    }

    /// Writes the keys of the valid pixels at group offsets `pixels` that are at most `cut`,
    /// in rank order, from `keys[0]` (`lovasz_cpu_create_keys`, image by image: eight pixels
    /// tested at a time and the kept keys stored compacted where the processor has AVX2).
    ///
    /// With a `floor`, only the keys whose error word is at least `floor` are kept
    /// (`lovasz_cpu_create_keys_floored`); `below` counts the valid pixels whose word is under
    /// it, `belowForeground` the foreground ones among them, and with `belowKeys` (a slot per
    /// valid pixel of `pixels`; the floor at most the cut's word) their keys are written there
    /// too, in rank order, their AND and OR in `belowAnd` and `belowOr`. `keptForeground` counts
    /// the foreground keys kept. A NaN or infinite score of `pixels` (ignored ones included) sets
    /// ``nonFinite``.
    func createKeys(
        pixels: Range<Int>, rank first: Int, keys: UnsafeMutablePointer<UInt64>, cut: UInt64, floor: UInt32? = nil,
        belowKeys: UnsafeMutablePointer<UInt64>? = nil
    ) -> KeyPassResult {
        var pass = lovasz_key_pass(
            kept: 0, rank: UInt64(first), and_bits: .max, or_bits: 0, floor_word: floor ?? 0, below: 0, below_foreground: 0,
            below_keys: floor != nil ? belowKeys : nil, below_and: .max, below_or: 0, kept_foreground: 0, nonfinite: 0)
        // The error of a background pixel is x (probabilities) or 1 + x (hinge logits).
        let background: Float = hinge ? 1 : 0
        var offset = pixels.lowerBound
        while offset < pixels.upperBound {
            let image = group.firstImage + offset / spatial
            let start = offset % spatial
            let end = min(spatial, start + (pixels.upperBound - offset))
            let labels = classOf.advanced(by: image * spatial + start).pointers
            let scores = values.baseAddress! + (image * channels + segment.channel) * spatial + start
            if floor != nil {
                lovasz_cpu_create_keys_floored(&pass, scores, labels, end - start, segment.foregroundLabel, background, cut, keys)
            } else {
                lovasz_cpu_create_keys(&pass, scores, labels, end - start, segment.foregroundLabel, background, cut, keys)
            }
            offset += end - start
        }
        if pass.nonfinite != 0 { nonFinite?.set() }
        return KeyPassResult(
            kept: Int(pass.kept), and: pass.and_bits, or: pass.or_bits, below: Int(pass.below),
            belowForeground: Int(pass.below_foreground), keptForeground: Int(pass.kept_foreground),
            belowAnd: pass.below_and, belowOr: pass.below_or)
    }

    /// Keeps, in every chunk's keys, only those up to the largest foreground key of all chunks,
    /// and makes the chunks' AND and OR again.
    private func dropKeysAfterLastForeground(chunks: Int, workspace: SortWorkspace, workers: Int) {
        // The largest foreground key of each chunk (0: none), in the AND slots until remade.
        parallelForEach(count: chunks, workers: workers) { _, c in
            let keys = workspace.keys + workspace.chunkRanks[c]
            var largest: UInt64 = 0
            for i in 0..<workspace.chunkKept[c] where keys[i] & 1 == 1 { largest = max(largest, keys[i]) }
            workspace.chunkAnd[c] = Int(bitPattern: UInt(largest))
        }
        var last: UInt64 = 0
        for c in 0..<chunks { last = max(last, UInt64(UInt(bitPattern: workspace.chunkAnd[c]))) }
        parallelForEach(count: chunks, workers: workers) { _, c in
            let keys = workspace.keys + workspace.chunkRanks[c]
            var kept = 0, andBits = UInt64.max, orBits: UInt64 = 0
            for i in 0..<workspace.chunkKept[c] where keys[i] <= last {
                keys[kept] = keys[i]
                andBits &= keys[i]
                orBits |= keys[i]
                kept += 1
            }
            workspace.chunkKept[c] = kept
            workspace.chunkAnd[c] = Int(bitPattern: UInt(andBits))
            workspace.chunkOr[c] = Int(bitPattern: UInt(orBits))
        }
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

    func zeroPlane(chunks: GroupChunks, workers: Int) {
        guard plane != nil else { return }
        parallelForEach(count: chunks.count, workers: workers) { _, c in zeroPlane(chunks.range(c), of: chunks) }
    }

    /// Zeroes the gradient plane at group offsets `range`, with non-temporal stores when the
    /// group's plane is large (``CPUSortTuning/streamingZeroPixels``) and `streaming` is true.
    private func zeroPlane(_ range: Range<Int>, of chunks: GroupChunks, streaming: Bool = true) {
        guard let plane else { return }
        let start = plane + group.firstImage * spatial + range.lowerBound
        if streaming && chunks.pixels >= tuning.streamingZeroPixels {
            lovasz_cpu_zero_streaming(start, range.count)
        } else {
            start.update(repeating: 0, count: range.count)
        }
    }
}

/// What a key pass over a run of pixels made (``SegmentWork/createKeys(pixels:rank:keys:cut:floor:belowKeys:)``).
struct KeyPassResult {
    /// Keys kept, their AND and OR.
    var kept: Int
    var and: UInt64
    var or: UInt64
    /// With a floor: the valid pixels whose word is under it, and the foreground ones among them.
    var below: Int
    var belowForeground: Int
    /// Foreground keys kept.
    var keptForeground: Int
    /// With keys under the floor written: their AND and OR.
    var belowAnd: UInt64
    var belowOr: UInt64
}
