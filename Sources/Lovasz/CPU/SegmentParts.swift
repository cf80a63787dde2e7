import CLovaszCPU
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one part of a segment split by key range leaves for ``SegmentParts/loss(_:records:layout:)``.
///
/// A part owns the sorted positions `start ..< start + count`. Its loss terms up to the first
/// chunk boundary (``headCount`` of them) are kept one by one in its record, because the
/// chunk they belong to began in an earlier part; the chunks it closes itself are kept as
/// totals after them, and the partial sums of a chunk it leaves open in ``tail``.
struct SegmentPartOutcome {
    /// The segment's loss, when this part (the first) walked the whole segment because the
    /// sample suggested too few keys to split (``CPUSortTuning/splitSegmentKeys``).
    var whole: Double?
    var start = 0
    var count = 0
    var headCount = 0
    var chunksClosed = 0
    var tail: (Double, Double, Double, Double) = (0, 0, 0, 0)
}

/// Segments that would leave threads idle at the end of a call, split into parts by key range.
///
/// When the segments of a call do not divide evenly among the threads (the 2×3×200×200 call
/// has three segments on two threads), each segment of the last, incomplete round is split
/// into parts that run as separate tasks, with no merge and nothing shared. Every part takes the
/// keys of the same few evenly spread blocks of pixels, sorts them and reads off the error words
/// at the parts' quantiles (the same words in every part; the first parts' shares larger,
/// ``CPUSortTuning/splitShareSlope``); part `p` then makes, with the key
/// pass, only the keys whose word lies from quantile `p` up to quantile `p + 1`, counting the
/// keys and foreground keys below its range as it goes, and sorts and walks them in its own
/// memory. Its walk starts at the sorted position and with the foreground count of the keys
/// below, so every gradient entry is the one the whole walk gives; the loss is summed per chunk
/// of sorted keys as in the whole walk, the terms of a chunk that straddles two parts added in
/// sorted order once the parts are done, so it is the same number bit for bit. A part costs a
/// key pass over the whole segment's pixels (reading what the other parts read) and the sort
/// and walk of its share of the keys. Measured in one process (alternating calls, runs of 600),
/// the 2×3×200×200 confident call on two threads: 1.08-1.16x faster than with its third
/// segment whole in a quiet minute, 0.94-1.13x (median 1.05x over twenty runs) in a slow one. The same split in place of threads sharing one segment (the hinge per batch
/// on two threads) measured 0.95x: that path is kept for segments fewer than threads.
enum SegmentParts {
    /// The sizes of one part's record (the 64-bit slots it keeps its terms and totals in).
    struct Layout {
        /// Slots for loss terms before the part's first chunk boundary.
        let headCapacity: Int
        /// Slots of a record: the terms, then the totals of the chunks closed.
        let recordSize: Int
        let walkChunk: Int

        init(capacity: Int, walkChunk: Int) {
            headCapacity = max(1, min(capacity, walkChunk))
            recordSize = headCapacity + capacity / walkChunk + 2
            self.walkChunk = walkChunk
        }
    }

    /// The index, in a sorted sample of `sampled` keys, of part `part`'s first key, for
    /// `0 < part < parts`: the parts' shares of the sample fall linearly from `1 + slope` times
    /// the mean (the first part) to `1 - slope` times it (the last), so part `q` starts at the
    /// fraction `q · (1 + slope · (parts - q) / (parts - 1)) / parts`.
    ///
    /// - Parameter slope: in `0 ..< 1` (0: equal shares).
    static func firstSample(ofPart part: Int, parts: Int, sampled: Int, slope: Double) -> Int {
        precondition(parts >= 2 && part > 0 && part < parts && sampled > 0 && slope >= 0 && slope < 1)
        let q = Double(part), n = Double(parts)
        let fraction = q * (1 + slope * (n - q) / (n - 1)) / n
        return min(sampled - 1, Int(fraction * Double(sampled)))
    }

    /// The loss of a segment from its parts' outcomes, in part order: the same sum, in the same
    /// order, as ``SegmentWalker`` over all the sorted keys.
    static func loss(
        _ outcomes: UnsafeBufferPointer<SegmentPartOutcome>, records: (Int) -> UnsafeMutablePointer<UInt64>,
        layout: Layout
    ) -> Double {
        if let whole = outcomes.first?.whole { return whole }
        let chunk = layout.walkChunk
        var state = lovasz_walk_state(intersection: 0, union_count: 1, sums: (0, 0, 0, 0))
        var loss = 0.0
        var end = 0
        for (index, part) in outcomes.enumerated() where part.count > 0 {
            let record = records(index)
            withUnsafeMutableBytes(of: &state.sums) { bytes in
                let sums = bytes.bindMemory(to: Double.self)
                for j in 0..<part.headCount { sums[(part.start + j) & 3] += Double(bitPattern: record[j]) }
            }
            if part.headCount > 0 && (part.start + part.headCount) % chunk == 0 {
                loss += lovasz_walk_total(&state)
                state.sums = (0, 0, 0, 0)
            }
            for t in 0..<part.chunksClosed { loss += Double(bitPattern: record[layout.headCapacity + t]) }
            if part.count > part.headCount { state.sums = part.tail }
            end = part.start + part.count
        }
        if end % chunk != 0 { loss += lovasz_walk_total(&state) }
        return loss
    }
}

/// The key pass of a segment split into two parts (``SegmentParts``), shared by the parts.
///
/// Each part takes chunks of the segment's pixels, one at a time, until none is left, and
/// writes each chunk's keys of both parts' ranges in one pass
/// (`lovasz_cpu_create_keys_floored` with the keys under the second part's floor written too):
/// the first part's at ``low``, the second's at ``high``, each chunk's from its first rank. A
/// part then waits for the chunks the other part took (their passes are running: no part waits
/// for another to start) and sorts its own keys. The parts read every pixel once between them,
/// where each part alone read all of them, and the first part to come does more of the pass.
/// It costs two slots per valid pixel more memory. Measured in one process (alternating calls
/// against each part's own pass, Intel Xeon VM, two threads): the 2×3×200×200 confident call
/// 1.001-1.039x faster (median 1.013x, eight processes; the first part still best with the
/// larger share: equal shares 0.95-1.0x), the VOC batch 0.99-1.01x (its split segment is one
/// of 21).
final class SharedPartKeys {
    /// Chunks of pixels per part (each chunk at least ``minimumChunkPixels``): the first part to
    /// come takes chunks alone until the other joins.
    static let chunksPerPart = 4
    static let minimumChunkPixels = 4096

    /// The chunks of the segment's pixels.
    let chunks: GroupChunks
    /// A slot per valid pixel of the segment for each part's keys.
    let low: UnsafeMutablePointer<UInt64>
    let high: UnsafeMutablePointer<UInt64>
    /// Per chunk: its first rank and what its pass made.
    private let ranks: UnsafeMutablePointer<Int>
    private let results: UnsafeMutablePointer<KeyPassResult>
    private let taken = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    /// - Parameters:
    ///   - low, high: as many slots as the segment's group has valid pixels each.
    init(chunks: GroupChunks, low: UnsafeMutablePointer<UInt64>, high: UnsafeMutablePointer<UInt64>) {
        self.chunks = chunks
        self.low = low
        self.high = high
        ranks = .allocate(capacity: chunks.count)
        results = .allocate(capacity: chunks.count)
    }

    deinit {
        ranks.deallocate()
        results.deallocate()
    }

    /// Takes chunks until none is left, running `pass(chunk)` (which returns the chunk's first
    /// rank and what its pass made) on each, then waits until every chunk's pass is done.
    func makeKeys(_ pass: (_ chunk: Int) -> (rank: Int, made: KeyPassResult)) {
        while true {
            let c = taken.wrappingAdd(1, ordering: .relaxed).oldValue
            guard c < chunks.count else { break }
            (ranks[c], results[c]) = pass(c)
            finished.wrappingAdd(1, ordering: .releasing)
        }
        // The chunks still running were taken by the other part's thread, which is in them.
        var polls = 0
        while finished.load(ordering: .acquiring) < chunks.count {
            lovasz_cpu_spin_pause()
            polls += 1
            if polls & 255 == 0 { sched_yield() }
        }
    }

    /// Chunk `c`'s first rank and what its pass made (after ``makeKeys(_:)``).
    func chunk(_ c: Int) -> (rank: Int, made: KeyPassResult) { (ranks[c], results[c]) }
}

extension SegmentWork {
    /// Part `part` of `parts` of this segment (``SegmentParts``), in `workspace`; `record`
    /// holds a ``SegmentParts/Layout/recordSize`` slots. The plane must be zero already: a part
    /// writes the gradient of its own keys only. With `shared` (two parts), the parts share one
    /// key pass (``SharedPartKeys``).
    func runPart(
        cut: UInt64, part: Int, of parts: Int, workspace: SortWorkspace, record: UnsafeMutablePointer<UInt64>,
        layout: SegmentParts.Layout, shared: SharedPartKeys? = nil
    ) -> SegmentPartOutcome {
        let pixels = 0 ..< group.imageCount * spatial
        guard let sampled = sampleWords(cut: cut, into: workspace) else {
            // Too few keys to split: the first part does the whole segment.
            guard part == 0 else { return SegmentPartOutcome() }
            let made = createKeys(pixels: pixels, rank: 0, keys: workspace.keys, cut: cut)
            let sorted = sortCompacted(count: made.kept, highBit: KeyRadixSort.highBit(varying: made.and ^ made.or), workspace: workspace)
            return SegmentPartOutcome(whole: walk(sorted: sorted, count: made.kept, workers: 1))
        }
        // Part p keeps the error words from the sample's quantile of part p (inclusive) to the
        // next one (exclusive): every key with one word falls in one part.
        func bound(_ q: Int) -> UInt32 {
            let index = SegmentParts.firstSample(ofPart: q, parts: parts, sampled: sampled, slope: tuning.splitShareSlope)
            return UInt32(truncatingIfNeeded: workspace.scratch[index] >> 32)
        }
        // Every part finds the same bound, so both share the pass or neither does (the keys
        // under the floor are the first part's only when the floor is at most the cut's word).
        if let shared, parts == 2, UInt64(bound(1)) <= cut >> 32 {
            return runSharedPart(part, cut: cut, floor: bound(1), shared: shared, workspace: workspace, record: record, layout: layout)
        }
        let floor: UInt32 = part == 0 ? 0 : bound(part)
        var partCut = cut
        if part < parts - 1 {
            let next = bound(part + 1)
            guard next > floor else { return SegmentPartOutcome() }
            partCut = min(cut, UInt64(next) << 32 - 1)
        }
        let made = createKeys(pixels: pixels, rank: 0, keys: workspace.keys, cut: partCut, floor: floor)
        let count = made.kept, start = made.below
        guard count > 0 else { return SegmentPartOutcome(start: start) }
        let sorted = sortCompacted(count: count, highBit: KeyRadixSort.highBit(varying: made.and ^ made.or), workspace: workspace)
        return walkPart(sorted, count: count, start: start, foregroundBefore: made.belowForeground, record: record, layout: layout)
    }

    /// ``runPart(cut:part:of:workspace:record:layout:shared:)`` with the key pass shared: part 0
    /// takes the keys under `floor`, part 1 the others up to the cut.
    private func runSharedPart(
        _ part: Int, cut: UInt64, floor: UInt32, shared: SharedPartKeys, workspace: SortWorkspace,
        record: UnsafeMutablePointer<UInt64>, layout: SegmentParts.Layout
    ) -> SegmentPartOutcome {
        shared.makeKeys { c in
            let range = shared.chunks.range(c)
            let rank = GroupChunks.rank(atOffset: range.lowerBound, group: group, spatial: spatial, validPixels: validPixels)
            return (rank, createKeys(
                pixels: range, rank: rank, keys: shared.high + rank, cut: cut, floor: floor, belowKeys: shared.low + rank))
        }
        // This part's keys, chunk after chunk, moved down to one run.
        let keys = part == 0 ? shared.low : shared.high
        var count = 0, and = UInt64.max, or: UInt64 = 0, start = 0, foregroundBefore = 0
        for c in 0..<shared.chunks.count {
            let (rank, made) = shared.chunk(c)
            let kept = part == 0 ? made.below : made.kept
            (keys + count).update(from: keys + rank, count: kept)
            count += kept
            and &= part == 0 ? made.belowAnd : made.and
            or |= part == 0 ? made.belowOr : made.or
            start += made.below
            foregroundBefore += made.belowForeground
        }
        if part == 0 { start = 0; foregroundBefore = 0 }
        guard count > 0 else { return SegmentPartOutcome(start: start) }
        let sorted = sortCompacted(
            count: count, highBit: KeyRadixSort.highBit(varying: and ^ or), workspace: workspace.sortingFrom(keys))
        return walkPart(sorted, count: count, start: start, foregroundBefore: foregroundBefore, record: record, layout: layout)
    }

    /// Walks a part's `count` sorted keys from sorted position `start`, after `foregroundBefore`
    /// foreground keys (``SegmentParts``).
    private func walkPart(
        _ sorted: UnsafeMutablePointer<UInt64>, count: Int, start: Int, foregroundBefore: Int,
        record: UnsafeMutablePointer<UInt64>, layout: SegmentParts.Layout
    ) -> SegmentPartOutcome {
        askForPlane()
        // The walk, from the part's first sorted position.
        let chunk = layout.walkChunk
        var walker = SegmentWalker(
            self, position: start, foregroundBefore: foregroundBefore, chunkTotals: record + layout.headCapacity)
        let head = min(count, (chunk - start % chunk) % chunk)
        if head > 0 { walker.walkTerms(sorted, count: head, into: record) }
        if count > head { walker.walk(sorted + head, count: count - head) }
        return SegmentPartOutcome(
            start: start, count: count, headCount: head, chunksClosed: walker.chunksClosed, tail: walker.openSums)
    }

    /// Asks for the lines of the segment's gradient plane ready to write (`prefetchw`), when the
    /// plane is small enough for the walk's scatter form (``CPUSortTuning/scatterWalkPixels``):
    /// it was zeroed by the calling thread before the parts ran, and the whole segments sorted
    /// since have pushed its lines out of both cores' caches, so a part's random stores would
    /// each wait for its line. Measured with the smaller sample
    /// (``CPUSortTuning/splitSampleBlockPixels``): the 2×3×200×200 confident call on two threads
    /// 1.03x faster (the request alone 1.007-1.017x, median 1.01x, six processes).
    private func askForPlane() {
        let pixels = group.imageCount * spatial
        guard let plane, pixels <= tuning.scatterWalkPixels else { return }
        let start = plane + group.firstImage * spatial
        for offset in stride(from: 0, to: pixels, by: 16) { lovasz_cpu_prefetch_for_write(start + offset) }
    }

    /// Sorts the `count` keys at the start of `workspace.keys` on one thread; returns the buffer
    /// that holds them sorted. Above the cache-resident size they are taken as four contiguous
    /// chunks, so that the MSD pass counts and scatters four streams at once (``ParallelKeySort``).
    private func sortCompacted(count: Int, highBit: Int, workspace: SortWorkspace) -> UnsafeMutablePointer<UInt64> {
        let chunks = count > tuning.cacheResidentKeys ? ParallelKeySort.streams : 1
        for c in 0..<chunks {
            workspace.chunkRanks[c] = c * count / chunks
            workspace.chunkKept[c] = (c + 1) * count / chunks - c * count / chunks
        }
        return sort(count: count, highBit: highBit, chunks: chunks, workspace: workspace, workers: 1)
    }

    /// Keys of ``CPUSortTuning/splitSampleBlocks`` evenly spread blocks of pixels, sorted by their
    /// error word at the start of `workspace.scratch`; their number, or `nil` when they suggest
    /// fewer than ``CPUSortTuning/splitSegmentKeys`` kept keys in the segment.
    private func sampleWords(cut: UInt64, into workspace: SortWorkspace) -> Int? {
        let pixels = group.imageCount * spatial
        let blocks = tuning.splitSampleBlocks, length = tuning.splitSampleBlockPixels
        guard pixels >= 2 * blocks * length, blocks * length <= group.validCount else { return nil }
        var sampled = 0, and = UInt64.max, or: UInt64 = 0
        for b in 0..<blocks {
            let first = b * pixels / blocks
            let made = createKeys(pixels: first ..< first + length, rank: 0, keys: workspace.scratch + sampled, cut: cut)
            sampled += made.kept
            and &= made.and
            or |= made.or
        }
        guard sampled > 0, sampled * pixels >= tuning.splitSegmentKeys * blocks * length else { return nil }
        KeyRadixSort.sortBucket(
            workspace.scratch, scratch: workspace.keys, count: sampled, highBit: KeyRadixSort.highBit(varying: and ^ or),
            histogram: workspace.bucketHistogram(worker: 0))
        return sampled
    }
}
