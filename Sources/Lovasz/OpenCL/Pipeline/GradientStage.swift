/// The Lovász gradient at every sorted position and the per-segment loss sums: the kernels
/// of `Kernels/lovasz_gradient.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class GradientStage {
    private let lovaszGradient: CLKernel
    private let reduceTermBlocks: CLKernel
    private let reduceSegmentLosses: CLKernel
    private let configuration: KernelConfiguration

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        lovaszGradient = try program.makeKernel("lovasz_gradient")
        reduceTermBlocks = try program.makeKernel("reduce_term_blocks")
        reduceSegmentLosses = try program.makeKernel("reduce_segment_losses")
        self.configuration = configuration
    }

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [reduceTermBlocks, reduceSegmentLosses] }

    /// `lovasz_gradient`: over `segmentCount` segments of `padded` sorted keys (a power of
    /// two, or a multiple of the scan tile) from segment `segmentBase` on, the loss terms into
    /// `terms` and, when `writeGradient`, the weighted gradient scattered into `upstream`
    /// (class-major [C][pixelCount]).
    func enqueueGradient(
        keys: CLBuffer, counts: CLBuffer, tileCarries: CLBuffer, segments: CLBuffer, validPixels: CLBuffer,
        weights: CLBuffer, kept: CLBuffer, terms: CLBuffer, upstream: CLBuffer, padded: Int, pixelCount: Int,
        hinge: Bool, writeGradient: Bool, segmentBase: Int, segmentCount: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try lovaszGradient.setArguments(
            .buffer(keys), .buffer(counts), .buffer(tileCarries), .buffer(segments), .buffer(validPixels),
            .buffer(weights), .buffer(kept), .buffer(terms), .buffer(upstream), .count(padded),
            .count(pixelCount), .flag(hinge), .flag(writeGradient), .count(segmentBase))
        try queue.launch(lovaszGradient, globalSize: [segmentCount * padded])
    }

    /// Terms summed by one work-group of `reduce_term_blocks`.
    var reduceBlock: Int { configuration.localSize * KernelLayout.reduceItems }

    /// `reduce_term_blocks` then `reduce_segment_losses`: `losses[segmentBase + j]`, the sum
    /// of segment j's `padded` terms in a fixed order (per block of ``reduceBlock`` terms, then
    /// the blocks in order), for j in `0 ..< segmentCount`.
    ///
    /// - Parameter partials: `segmentCount · ⌈padded / reduceBlock⌉` accumulators of scratch.
    func enqueueSegmentLosses(
        terms: CLBuffer, partials: CLBuffer, losses: CLBuffer, padded: Int, segmentBase: Int, segmentCount: Int,
        on queue: PipelineQueue
    ) throws(OpenCLError) {
        let localSize = configuration.localSize
        let blocks = (padded + reduceBlock - 1) / reduceBlock
        try reduceTermBlocks.setArguments(.buffer(terms), .buffer(partials), .count(padded), .count(blocks))
        try queue.launch(reduceTermBlocks, globalSize: [blocks * localSize, segmentCount], localSize: [localSize, 1])
        try reduceSegmentLosses.setArguments(.buffer(partials), .buffer(losses), .count(blocks), .count(segmentBase))
        try queue.launch(reduceSegmentLosses, globalSize: [segmentCount * localSize], localSize: [localSize])
    }
}
