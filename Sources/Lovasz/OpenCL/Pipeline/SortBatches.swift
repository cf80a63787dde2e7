/// The large segments of a call and their blocks, as the key kernels list them
/// (`Kernels/lovasz_keys.cl`): a segment of more than ``KernelLayout/smallSegment`` pixels
/// is cut and compacted by one work-group per block of `blockSize` ranks; a smaller one by one
/// work-item.
struct SegmentBlocks: Equatable {
    /// The segment of every listed block; a segment's blocks are consecutive.
    let blockSegments: [UInt32]
    /// The first listed block of every segment, and the list's length at the end
    /// (`segmentCount + 1` entries: segment k has `firstBlock[k + 1] - firstBlock[k]` blocks,
    /// none when small).
    let firstBlock: [UInt32]
    /// The large segments, ascending.
    let largeSegments: [UInt32]

    /// - Parameters:
    ///   - counts: the valid pixels of every segment.
    ///   - blockSize: ranks per block (``KernelConfiguration/boundBlock``).
    init(counts: some Sequence<Int>, smallSegment: Int = KernelLayout.smallSegment, blockSize: Int) {
        var blockSegments = [UInt32](), firstBlock = [UInt32](), largeSegments = [UInt32]()
        for (k, n) in counts.enumerated() {
            firstBlock.append(UInt32(blockSegments.count))
            guard n > smallSegment else { continue }
            largeSegments.append(UInt32(k))
            blockSegments += repeatElement(UInt32(k), count: (n + blockSize - 1) / blockSize)
        }
        firstBlock.append(UInt32(blockSegments.count))
        self.blockSegments = blockSegments
        self.firstBlock = firstBlock
        self.largeSegments = largeSegments
    }

    /// The listed blocks of segment `k`.
    func blocks(of k: Int) -> Range<Int> { Int(firstBlock[k]) ..< Int(firstBlock[k + 1]) }
}

/// The order in which the segments are compacted, sorted and walked, and its chunks.
///
/// Every segment of a chunk is padded to the chunk's `padded` keys (a power of two), so
/// segments of similar kept counts go together: by the power of two of their kept count, the
/// classes merged from the largest down while the padded keys stay within twice the segments'
/// own powers of two plus `slack`. The work of the sort, scan and gradient stays linear in the
/// kept keys for any mix of sizes; with one class (segments of similar sizes) the order is
/// the segments' own.
struct SortBatches: Equatable {
    /// A run of consecutive slots of ``order`` sorted together.
    struct Chunk: Equatable {
        /// Keys per segment, at least each segment's kept count: a power of two, or what
        /// `padding` made of it (for the radix sort, the largest kept count rounded up).
        let padded: Int
        /// The chunk's positions in ``order``; slot j is `order[slots.lowerBound + j]`.
        let slots: Range<Int>
        /// The chunk's (listed block, slot) pairs in ``compactBlocks`` (pairs, not `uint`s).
        let compactEntries: Range<Int>
        /// Whether a segment of the chunk is small (compacted by one work-item).
        let hasSmall: Bool
    }

    /// The padding slack on a GPU: one more chunk costs a dozen launches and flushes (tens
    /// of microseconds of host time each way), while this many padded keys cost the scan and
    /// the gradient well under 0.1 ms on a current GPU; a CPU device (PoCL) pads only to
    /// the sort's alignment.
    static let deviceSlack = 1 << 22

    /// Every segment once: the segment of each slot.
    let order: [UInt32]
    let chunks: [Chunk]
    /// (listed block, slot in its chunk) pairs, chunk after chunk, for `compact_keys`.
    let compactBlocks: [UInt32]

    /// - Parameters:
    ///   - kept: the kept keys of every segment.
    ///   - blocks: the listed blocks of the large segments.
    ///   - slack: padded keys a class may add regardless (the sort's alignment).
    ///   - padding: the slot length of a group of segments from its power of two and its
    ///     largest kept count (at least that count); by default the power of two.
    ///   - segmentsPerChunk: how many segments of `padded` keys one chunk holds, out of `total`.
    init<E: Error>(
        kept: [UInt32], blocks: SegmentBlocks, slack: Int,
        padding: (_ powerOfTwo: Int, _ largestKept: Int) -> Int = { powerOfTwo, _ in powerOfTwo },
        segmentsPerChunk: (_ padded: Int, _ total: Int) throws(E) -> Int
    ) throws(E) {
        // Segments by the power of two of their kept count, largest first.
        var classes = [[UInt32]](repeating: [], count: 34)
        for (k, count) in kept.enumerated() {
            classes[Self.paddedLog2(count)].append(UInt32(k))
        }
        var groups: [(padded: Int, members: [[UInt32]])] = []
        var useful = 0, members = 0
        for log2 in classes.indices.reversed() where !classes[log2].isEmpty {
            let own = classes[log2].count << log2
            if let last = groups.last, (members + classes[log2].count) * last.padded <= 2 * (useful + own) + slack {
                groups[groups.count - 1].members.append(classes[log2])
            } else {
                groups.append((1 << log2, [classes[log2]]))
                useful = 0
                members = 0
            }
            useful += own
            members += classes[log2].count
        }
        var order = [UInt32](), chunks = [Chunk](), compactBlocks = [UInt32]()
        order.reserveCapacity(kept.count)
        for group in groups {
            let segments = group.members.count == 1 ? group.members[0] : group.members.joined().sorted()
            let padded = padding(group.padded, Int(segments.lazy.map { kept[Int($0)] }.max() ?? 0))
            let perChunk = try segmentsPerChunk(padded, segments.count)
            var start = 0
            while start < segments.count {
                let slots = order.count ..< order.count + min(perChunk, segments.count - start)
                let firstEntry = compactBlocks.count / 2
                var hasSmall = false
                for (j, k) in segments[start ..< start + slots.count].enumerated() {
                    order.append(k)
                    let listed = blocks.blocks(of: Int(k))
                    hasSmall = hasSmall || listed.isEmpty
                    for e in listed { compactBlocks += [UInt32(e), UInt32(j)] }
                }
                chunks.append(Chunk(
                    padded: padded, slots: slots, compactEntries: firstEntry ..< compactBlocks.count / 2,
                    hasSmall: hasSmall))
                start += slots.count
            }
        }
        self.order = order
        self.chunks = chunks
        self.compactBlocks = compactBlocks
    }

    /// log2 of the smallest power of two at least `count` (and at least 1).
    static func paddedLog2(_ count: UInt32) -> Int {
        count <= 1 ? 0 : UInt32.bitWidth - (count - 1).leadingZeroBitCount
    }
}
