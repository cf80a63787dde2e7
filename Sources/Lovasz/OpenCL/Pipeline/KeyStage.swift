/// The cut of every segment, the kept keys and their compaction: the kernels of
/// `Kernels/lovasz_keys.cl`.
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

    private let segmentBounds: CLKernel
    private let segmentCuts: CLKernel
    private let countKept: CLKernel
    private let compactKeys: CLKernel
    private let configuration: KernelConfiguration

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [segmentBounds, segmentCuts, countKept, compactKeys] }

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        segmentBounds = try program.makeKernel("segment_bounds")
        segmentCuts = try program.makeKernel("segment_cuts")
        countKept = try program.makeKernel("count_kept")
        compactKeys = try program.makeKernel("compact_keys")
        self.configuration = configuration
    }

    /// `segment_bounds`: per block of ``KernelConfiguration/boundBlock`` ranks of each of
    /// `segmentCount` segments, the largest foreground key and the smallest key into
    /// `partials` (2·`segmentCount`·`blocks` keys).
    func enqueueSegmentBounds(
        _ inputs: Inputs, partials: CLBuffer, blocks: Int, segmentCount: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try segmentBounds.setArguments(
            .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
            .buffer(partials), .count(inputs.classes), .count(inputs.spatial), .flag(inputs.hinge), .count(blocks))
        try queue.launch(segmentBounds, globalSize: perBlock(blocks, segmentCount), localSize: [configuration.localSize, 1])
    }

    /// `segment_cuts`: `cuts[k]`, the last key of segment k that is kept, from `partials`.
    func enqueueSegmentCuts(
        partials: CLBuffer, segments: CLBuffer, cuts: CLBuffer, blocks: Int, segmentCount: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try segmentCuts.setArguments(.buffer(partials), .buffer(segments), .buffer(cuts), .count(blocks))
        let localSize = configuration.localSize
        try queue.launch(segmentCuts, globalSize: [segmentCount * localSize], localSize: [localSize])
    }

    /// `count_kept`: `blockCounts[k·blocks + block]`, the keys ≤ `cuts[k]` in each block.
    func enqueueCountKept(
        _ inputs: Inputs, cuts: CLBuffer, blockCounts: CLBuffer, blocks: Int, segmentCount: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try countKept.setArguments(
            .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
            .buffer(cuts), .buffer(blockCounts), .count(inputs.classes), .count(inputs.spatial), .flag(inputs.hinge),
            .count(blocks))
        try queue.launch(countKept, globalSize: perBlock(blocks, segmentCount), localSize: [configuration.localSize, 1])
    }

    /// `compact_keys`: the kept keys of segments `segmentBase ..< segmentBase + segmentCount`
    /// in rank order, segment `segmentBase + j` from `keys[j·padded]` on.
    func enqueueCompactKeys(
        _ inputs: Inputs, cuts: CLBuffer, blockOffsets: CLBuffer, keys: CLBuffer, blocks: Int, padded: Int,
        segmentBase: Int, segmentCount: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try compactKeys.setArguments(
            .buffer(inputs.values), .buffer(inputs.classOf), .buffer(inputs.validPixels), .buffer(inputs.segments),
            .buffer(cuts), .buffer(blockOffsets), .buffer(keys), .count(inputs.classes), .count(inputs.spatial),
            .flag(inputs.hinge), .count(blocks), .count(padded), .count(segmentBase))
        try queue.launch(compactKeys, globalSize: perBlock(blocks, segmentCount), localSize: [configuration.localSize, 1])
    }

    /// One work-group per (block, segment).
    private func perBlock(_ blocks: Int, _ segmentCount: Int) -> [Int] {
        [blocks * configuration.localSize, segmentCount]
    }
}
