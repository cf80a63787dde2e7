import CLovaszCPU

/// The walk of one segment over its sorted keys, given in consecutive parts in sorted order
/// (`lovasz_cpu_walk`): the loss is summed per chunk of ``CPUSortTuning/walkChunk`` sorted keys
/// (four partial sums each, ``lovasz_walk_total``) and the chunk sums added in order, however
/// the keys are split into parts.
struct SegmentWalker {
    private var description: lovasz_walk_segment
    private var state: lovasz_walk_state
    private let chunk: Int
    /// Sorted positions walked so far (from the segment's first key).
    private(set) var position: Int
    /// The sum of the chunks finished so far.
    private var loss = 0.0
    /// When set, every finished chunk's total is also stored here (as its bit pattern), in order.
    private let chunkTotals: UnsafeMutablePointer<UInt64>?
    /// Chunk totals stored in ``chunkTotals``.
    private(set) var chunksClosed = 0

    /// A walk from sorted position `position` after `foregroundBefore` foreground keys; the
    /// first chunk it closes is summed from `position` on (a multiple of the chunk size, unless
    /// the keys before it in that chunk are summed elsewhere).
    ///
    /// - Parameters:
    ///   - chunkTotals: where to store the total of each chunk closed, if anywhere.
    ///   - storing: the plane's pixels whose gradient entries this walk stores (all by default;
    ///     threads sharing a walk each store one part, with the AVX-512F form's masked scatter).
    init(
        _ work: SegmentWork, position: Int = 0, foregroundBefore: Int = 0,
        chunkTotals: UnsafeMutablePointer<UInt64>? = nil, storing pixels: Range<Int>? = nil
    ) {
        self.chunkTotals = chunkTotals
        description = lovasz_walk_segment(
            plane: work.plane, valid_pixels: work.validPixels.map { $0.baseAddress! + work.group.validOffset },
            first_pixel: UInt64(work.group.firstImage * work.spatial), weight: work.segment.weight,
            hinge: work.hinge ? 1 : 0,
            scatter: pixels != nil || work.group.imageCount * work.spatial <= work.tuning.scatterWalkPixels ? 1 : 0,
            store_begin: UInt64(pixels?.lowerBound ?? 0), store_end: pixels.map { UInt64($0.upperBound) } ?? .max)
        // The union is at least Σδ ≥ 1 here, so `lovaszStep`'s special case for a union of 0
        // cannot arise.
        state = lovasz_walk_state(
            intersection: Int64(work.segment.foregroundCount - foregroundBefore),
            union_count: Int64(work.segment.foregroundCount + position - foregroundBefore),
            sums: (0, 0, 0, 0))
        chunk = work.tuning.walkChunk
        self.position = position
    }

    /// Walks the next `count` sorted keys.
    mutating func walk(_ keys: UnsafePointer<UInt64>, count: Int) {
        var done = 0
        while done < count {
            let inChunk = position % chunk
            let n = min(count - done, chunk - inChunk)
            lovasz_cpu_walk(&description, keys + done, n, inChunk, &state)
            done += n
            position += n
            if position % chunk == 0 { closeChunk() }
        }
    }

    /// Walks the next `count` sorted keys, storing their loss terms at `terms[0 ..< count]`
    /// (``lovasz_cpu_walk_terms``) instead of summing them; they must not cross a chunk's end.
    mutating func walkTerms(_ keys: UnsafePointer<UInt64>, count: Int, into terms: UnsafeMutablePointer<UInt64>) {
        let inChunk = position % chunk
        precondition(inChunk + count <= chunk)
        lovasz_cpu_walk_terms(&description, keys, count, inChunk, &state, terms)
        position += count
    }

    /// The partial sums of the chunk in progress (all zero at a chunk's start).
    var openSums: (Double, Double, Double, Double) { state.sums }

    /// Foreground keys not yet passed.
    var intersection: Int { Int(state.intersection) }

    /// The loss of the keys walked (a partial last chunk closed).
    mutating func finish() -> Double {
        if position % chunk != 0 { closeChunk() }
        return loss
    }

    private mutating func closeChunk() {
        let total = lovasz_walk_total(&state)
        loss += total
        if let chunkTotals {
            chunkTotals[chunksClosed] = total.bitPattern
            chunksClosed += 1
        }
        state.sums = (0, 0, 0, 0)
    }
}

extension SegmentWork {
    /// Algorithm 1 over the sorted keys with exact integer counts (``SegmentWalker``); with
    /// several workers the keys are walked in parallel by chunks, the foreground keys before
    /// each counted first, or, for a large plane (``CPUSortTuning/walkStoreParts``), every
    /// thread walks the keys and stores the gradient of its own part of the plane.
    func walk(sorted: UnsafeMutablePointer<UInt64>, count: Int, workers: Int) -> Double {
        let size = tuning.walkChunk
        let chunks = (count + size - 1) / size
        if workers == 1 || chunks < 2 {
            var walker = SegmentWalker(self)
            walker.walk(sorted, count: count)
            return walker.finish()
        }
        let pixels = group.imageCount * spatial
        let parts = plane != nil && pixels > tuning.scatterWalkPixels ? min(workers, tuning.walkStoreParts) : 1
        // Contiguous runs of chunks walked by one task each (one chunk each when the plane is
        // not split).
        let runs = parts > 1 ? max(1, min(chunks, workers / parts)) : chunks
        func chunkRange(_ run: Int) -> Range<Int> { run * chunks / runs ..< (run + 1) * chunks / runs }
        func keyRange(_ chunkRange: Range<Int>) -> Range<Int> {
            chunkRange.lowerBound * size ..< min(count, chunkRange.upperBound * size)
        }
        // Part `p` of the group's pixels, its bounds on 16-pixel (cache line) multiples.
        func part(_ p: Int) -> Range<Int> {
            let first = group.firstImage * spatial
            func bound(_ i: Int) -> Int { i == parts ? first + pixels : first + ((pixels * i / parts) & ~15) }
            return bound(p) ..< bound(p + 1)
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: chunks) { foreground in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: chunks) { totals in
                if runs > 1 {
                    parallelForEach(count: runs, workers: workers) { _, run in
                        var n = 0
                        for r in keyRange(chunkRange(run)) { n &+= Int(truncatingIfNeeded: sorted[r] & 1) }
                        foreground[run] = n
                    }
                    var before = 0
                    for run in 0..<runs {
                        let n = foreground[run]
                        foreground[run] = before
                        before += n
                    }
                } else {
                    foreground[0] = 0
                }
                parallelForEach(count: runs * parts, workers: workers) { _, task in
                    let run = task / parts, p = task % parts
                    let keys = keyRange(chunkRange(run))
                    var walker = SegmentWalker(
                        self, position: keys.lowerBound, foregroundBefore: foreground[run],
                        chunkTotals: p == 0 ? totals.baseAddress! + chunkRange(run).lowerBound : nil,
                        storing: parts > 1 ? part(p) : nil)
                    walker.walk(sorted + keys.lowerBound, count: keys.count)
                    _ = walker.finish()
                }
                var loss = 0.0
                for c in 0..<chunks { loss += Double(bitPattern: totals[c]) }
                return loss
            }
        }
    }

    /// A segment with no foreground: only its largest error counts, with gradient 1.
    func runWithoutForeground() -> Double {
        var first = UInt64.max
        forEachKey { key in
            if key < first { first = key }
        }
        guard first != .max else { return 0 }
        let error = SortKey.error(of: first)
        guard !hinge || error > 0 else { return 0 }
        if let plane { plane[pixel(ofRank: SortKey.rank(of: first))] = Float(segment.weight) }
        return Double(error)
    }

    /// Calls `body(key)` for every valid pixel of the group in rank order.
    @inline(__always)
    private func forEachKey(_ body: (UInt64) -> Void) {
        var rank = 0
        let foreground = segment.foregroundLabel
        for b in group.firstImage ..< group.firstImage + group.imageCount {
            let labelBase = b * spatial
            let valueBase = (b * channels + segment.channel) * spatial
            for s in 0..<spatial {
                let label = classOf[labelBase + s]
                if label < 0 { continue }
                let isForeground = label == foreground
                let x = values[valueBase + s]
                let error: Float = hinge ? (isForeground ? 1 - x : 1 + x) : (isForeground ? 1 - x : x)
                body(SortKey.pack(error: error, rank: rank, foreground: isForeground))
                rank += 1
            }
        }
    }
}
