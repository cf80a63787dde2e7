/// The cut of every segment, the kept keys and their compaction: the kernels of
/// `Kernels/lovasz_keys.cl`.
///
/// Segments of at most ``KernelLayout/smallSegment`` pixels take one work-item each; larger
/// ones one work-group per listed block (``SegmentBlocks``), so the work is linear in the
/// pixels for any mix of segment sizes.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class KeyStage {
    /// What every key kernel reads to make the key of a pixel (`lovasz_key_at`'s inputs).
    struct Inputs {
        /// Probabilities (softmax, sigmoid) or logits (hinge), [B, C, S] floats.
        let values: CLBuffer
        /// The class index of every pixel, [B·S] ints.
        let classOf: CLBuffer
        /// The valid-pixel list (any buffer when no segment has one).
        let validPixels: CLBuffer
        /// The segment table (``SegmentTable``).
        let segments: CLBuffer
        let classes: Int
        let spatial: Int
        /// Hinge errors 1 ∓ x instead of probability errors.
        let hinge: Bool
    }

    /// The block list of the large segments on the device (``SegmentBlocks``).
    struct Blocks {
        /// The segment of every listed block.
        let blockSegments: CLBuffer
        /// The first listed block of every segment (and the list's length at the end).
        let firstBlock: CLBuffer
        /// The large segments.
        let largeSegments: CLBuffer
        let blockCount: Int
        let largeCount: Int
    }

    private let smallSegmentCuts: CLKernel
    private let segmentBounds: CLKernel
    private let segmentCuts: CLKernel
    private let countKept: CLKernel
    private let largeSegmentOffsets: CLKernel
    private let compactSmallKeys: CLKernel
    private let compactKeys: CLKernel
    private let configuration: KernelConfiguration

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [segmentBounds, segmentCuts, countKept, largeSegmentOffsets, compactKeys] }

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        smallSegmentCuts = try program.makeKernel("small_segment_cuts")
        segmentBounds = try program.makeKernel("segment_bounds")
        segmentCuts = try program.makeKernel("segment_cuts")
        countKept = try program.makeKernel("count_kept")
        largeSegmentOffsets = try program.makeKernel("large_segment_offsets")
        compactSmallKeys = try program.makeKernel("compact_small_keys")
        compactKeys = try program.makeKernel("compact_keys")
        self.configuration = configuration
    }

    /// Enqueues `cuts[k]` (the last kept key) and `kept[k]` (the kept keys) of every one of
    /// `segmentCount` segments, with `blockOffsets[e]`, where the kept keys of listed block e
    /// start within its segment.
    ///
    /// - Parameters:
    ///   - partials: 2 keys per listed block.
    ///   - blockCounts, blockOffsets: one `uint` per listed block.
    func enqueueCuts(
        _ inputs: Inputs, blocks: Blocks, segmentCount: Int, partials: CLBuffer, cuts: CLBuffer, kept: CLBuffer,
        blockCounts: CLBuffer, blockOffsets: CLBuffer, on queue: PipelineQueue
    ) throws(OpenCLError) {
        if blocks.largeCount < segmentCount {
            try smallSegmentCuts.setArguments(
                .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
                .buffer(cuts), .buffer(kept), .count(inputs.classes), .count(inputs.spatial), .flag(inputs.hinge),
                .count(segmentCount))
            try queue.launch(smallSegmentCuts, globalSize: [segmentCount])
        }
        guard blocks.largeCount > 0 else { return }
        let localSize = configuration.localSize
        let perBlock = [blocks.blockCount * localSize], perLarge = [blocks.largeCount * localSize]
        try segmentBounds.setArguments(
            .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
            .buffer(blocks.blockSegments), .buffer(blocks.firstBlock), .buffer(partials), .count(inputs.classes),
            .count(inputs.spatial), .flag(inputs.hinge))
        try queue.launch(segmentBounds, globalSize: perBlock, localSize: [localSize])
        try segmentCuts.setArguments(
            .buffer(partials), .buffer(inputs.segments), .buffer(blocks.largeSegments), .buffer(blocks.firstBlock),
            .buffer(cuts), .flag(inputs.hinge))
        try queue.launch(segmentCuts, globalSize: perLarge, localSize: [localSize])
        try countKept.setArguments(
            .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
            .buffer(blocks.blockSegments), .buffer(blocks.firstBlock), .buffer(cuts), .buffer(blockCounts),
            .count(inputs.classes), .count(inputs.spatial), .flag(inputs.hinge))
        try queue.launch(countKept, globalSize: perBlock, localSize: [localSize])
        try largeSegmentOffsets.setArguments(
            .buffer(blockCounts), .buffer(blockOffsets), .buffer(kept), .buffer(inputs.segments),
            .buffer(blocks.largeSegments), .buffer(blocks.firstBlock))
        try queue.launch(largeSegmentOffsets, globalSize: perLarge, localSize: [localSize])
    }

    /// Enqueues the compaction of one chunk (``SortBatches/Chunk``): the kept keys of the
    /// segment `order[chunk.slots.lowerBound + j]` in rank order from `keys[j·padded]` on.
    ///
    /// - Parameter compactBlocks: the (listed block, slot) pairs of ``SortBatches``.
    func enqueueCompaction(
        _ inputs: Inputs, blocks: Blocks, chunk: SortBatches.Chunk, order: CLBuffer, compactBlocks: CLBuffer,
        cuts: CLBuffer, blockOffsets: CLBuffer, keys: CLBuffer, on queue: PipelineQueue
    ) throws(OpenCLError) {
        if chunk.hasSmall {
            try compactSmallKeys.setArguments(
                .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
                .buffer(order), .buffer(cuts), .buffer(keys), .count(inputs.classes), .count(inputs.spatial),
                .flag(inputs.hinge), .count(chunk.padded), .count(chunk.slots.lowerBound), .count(chunk.slots.count))
            try queue.launch(compactSmallKeys, globalSize: [chunk.slots.count])
        }
        guard !chunk.compactEntries.isEmpty else { return }
        try compactKeys.setArguments(
            .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
            .buffer(blocks.blockSegments), .buffer(blocks.firstBlock), .buffer(compactBlocks), .buffer(cuts),
            .buffer(blockOffsets), .buffer(keys), .count(inputs.classes), .count(inputs.spatial), .flag(inputs.hinge),
            .count(chunk.padded), .count(chunk.compactEntries.lowerBound))
        let localSize = configuration.localSize
        try queue.launch(compactKeys, globalSize: [chunk.compactEntries.count * localSize], localSize: [localSize])
    }
}
