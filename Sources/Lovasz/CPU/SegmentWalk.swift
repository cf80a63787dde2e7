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

    /// Walks the next `count` sorted keys as ``walk(_:count:)`` does, the entries of pixels outside
    /// the walk's store range going to `outbox` (``lovasz_cpu_walk_outbox``, `base` the pixel
    /// they count from); returns how many went there.
    mutating func walk(_ keys: UnsafePointer<UInt64>, count: Int, outbox: UnsafeMutablePointer<UInt64>, base: Int) -> Int {
        var done = 0, sent = 0
        while done < count {
            let inChunk = position % chunk
            let n = min(count - done, chunk - inChunk)
            sent += lovasz_cpu_walk_outbox(&description, keys + done, n, inChunk, &state, outbox + sent, UInt64(base))
            done += n
            position += n
            if position % chunk == 0 { closeChunk() }
        }
        return sent
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
    /// each counted first, or, for a large plane, by
    /// ``walkSendingAway(sorted:count:workers:outboxes:foregroundPerChunk:)`` when `sendingAway`
    /// gives it the space (and perhaps the foreground counts) it needs.
    func walk(
        sorted: UnsafeMutablePointer<UInt64>, count: Int, workers: Int,
        sendingAway: (spare: UnsafeMutablePointer<UInt64>, foregroundPerChunk: UnsafePointer<Int64>?)? = nil
    ) -> Double {
        let size = tuning.walkChunk
        let chunks = (count + size - 1) / size
        if workers == 1 || chunks < 2 {
            var walker = SegmentWalker(self)
            walker.walk(sorted, count: count)
            return walker.finish()
        }
        if let sendingAway, sharesWalkSendingAway(count: count, workers: workers) {
            return walkSendingAway(
                sorted: sorted, count: count, workers: workers, outboxes: sendingAway.spare,
                foregroundPerChunk: sendingAway.foregroundPerChunk)
        }
        func keyRange(_ chunk: Int) -> Range<Int> { chunk * size ..< min(count, (chunk + 1) * size) }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: chunks) { foreground in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: chunks) { totals in
                countForegroundBefore(sorted, runs: chunks, workers: workers, into: foreground.baseAddress!, keyRange: keyRange)
                parallelForEach(count: chunks, workers: workers) { _, chunk in
                    let keys = keyRange(chunk)
                    var walker = SegmentWalker(
                        self, position: keys.lowerBound, foregroundBefore: foreground[chunk],
                        chunkTotals: totals.baseAddress! + chunk)
                    walker.walk(sorted + keys.lowerBound, count: keys.count)
                    _ = walker.finish()
                }
                var loss = 0.0
                for c in 0..<chunks { loss += Double(bitPattern: totals[c]) }
                return loss
            }
        }
    }

    /// Counts the foreground keys of `sorted[keyRange(run)]` for every run in `0..<runs` in
    /// parallel, and leaves in `before[run]` those of the runs before it.
    private func countForegroundBefore(
        _ sorted: UnsafeMutablePointer<UInt64>, runs: Int, workers: Int, into before: UnsafeMutablePointer<Int>,
        keyRange: (Int) -> Range<Int>
    ) {
        parallelForEach(count: runs, workers: workers) { _, run in
            var n = 0
            for r in keyRange(run) { n &+= Int(truncatingIfNeeded: sorted[r] & 1) }
            before[run] = n
        }
        var total = 0
        for run in 0..<runs {
            let n = before[run]
            before[run] = total
            total += n
        }
    }

    /// Whether `workers` threads walk `count` sorted keys of this segment by
    /// ``walkSendingAway(sorted:count:workers:outboxes:foregroundPerChunk:)``: a plane of more
    /// than ``CPUSortTuning/scatterWalkPixels`` pixels (under 2^32) split into parts, and at least
    /// two chunks of keys.
    func sharesWalkSendingAway(count: Int, workers: Int) -> Bool {
        let pixels = group.imageCount * spatial
        return plane != nil && workers > 1 && min(workers, tuning.walkStoreParts) > 1 && count > tuning.walkChunk
            && pixels > tuning.scatterWalkPixels && pixels <= Int(UInt32.max)
    }

    /// The walk of a large plane on `workers` threads that balances itself: runs of chunks of
    /// sorted keys are handed out one at a time; the thread of worker `w` stores the entries of
    /// part `w % parts` of the plane (which then stays in its cache) and sends the others to its
    /// run's outbox (`outboxes[first key of the run...]`, ``lovasz_cpu_walk_outbox``); then each
    /// part's entries are taken out of the outboxes of the runs other threads walked
    /// (``lovasz_cpu_drain_outbox``), a thread done with its part helping another from its last
    /// runs. Every key is walked once.
    ///
    /// - Parameters:
    ///   - outboxes: `count` keys of free space.
    ///   - foregroundPerChunk: the foreground keys of each chunk of ``CPUSortTuning/walkChunk``
    ///     sorted keys when the sort counted them; otherwise they are counted here first.
    func walkSendingAway(
        sorted: UnsafeMutablePointer<UInt64>, count: Int, workers: Int, outboxes: UnsafeMutablePointer<UInt64>,
        foregroundPerChunk: UnsafePointer<Int64>?
    ) -> Double {
        let size = tuning.walkChunk
        let chunks = (count + size - 1) / size
        let parts = min(workers, tuning.walkStoreParts)
        let runs = min(chunks, workers * tuning.walkRunsPerWorker)
        func chunkRange(_ run: Int) -> Range<Int> { run * chunks / runs ..< (run + 1) * chunks / runs }
        func keyRange(_ run: Int) -> Range<Int> {
            let chunks = chunkRange(run)
            return chunks.lowerBound * size ..< min(count, chunks.upperBound * size)
        }
        let pixels = group.imageCount * spatial
        let first = group.firstImage * spatial
        // Part `p` of the group's pixels, its bounds on 16-pixel (cache line) multiples.
        func part(_ p: Int) -> Range<Int> {
            func bound(_ i: Int) -> Int { i == parts ? first + pixels : first + ((pixels * i / parts) & ~15) }
            return bound(p) ..< bound(p + 1)
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * runs) { perRun in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: chunks) { totals in
                let foregroundBefore = perRun.baseAddress!, sent = foregroundBefore + runs, walkedBy = sent + runs
                if let foregroundPerChunk {
                    var before = 0
                    for run in 0..<runs {
                        foregroundBefore[run] = before
                        for c in chunkRange(run) { before += Int(foregroundPerChunk[c]) }
                    }
                } else {
                    countForegroundBefore(sorted, runs: runs, workers: workers, into: foregroundBefore, keyRange: keyRange)
                }
                parallelForEach(count: runs, workers: workers) { worker, run in
                    let keys = keyRange(run)
                    var walker = SegmentWalker(
                        self, position: keys.lowerBound, foregroundBefore: foregroundBefore[run],
                        chunkTotals: totals.baseAddress! + chunkRange(run).lowerBound, storing: part(worker % parts))
                    sent[run] = walker.walk(sorted + keys.lowerBound, count: keys.count, outbox: outboxes + keys.lowerBound, base: first)
                    _ = walker.finish()
                    walkedBy[run] = worker % parts
                }
                // Each part's thread drains the runs other threads walked; one done with its part
                // helps another from its last runs (every pixel is stored once, so the order does
                // not matter).
                withUnsafeTemporaryAllocation(of: Int.self, capacity: parts * (runs + 1)) { lists in
                    let drained = lists.baseAddress!, listed = drained + parts * runs
                    for p in 0..<parts {
                        listed[p] = 0
                        for run in 0..<runs where walkedBy[run] != p && sent[run] > 0 {
                            drained[p * runs + listed[p]] = run
                            listed[p] += 1
                        }
                    }
                    func drain(_ p: Int, _ item: Int) {
                        let range = part(p), run = drained[p * runs + item]
                        lovasz_cpu_drain_outbox(
                            plane!, UInt64(first), UInt64(range.lowerBound), UInt64(range.upperBound),
                            outboxes + keyRange(run).lowerBound, sent[run])
                    }
                    parallelForEachFromBothEnds(
                        lists: parts, items: { listed[$0] }, workers: workers, front: drain, back: drain)
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
