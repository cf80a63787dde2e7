/// The Lovász gradient at every sorted position and the per-segment loss sums: the kernels
/// of `Kernels/lovasz_gradient.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class GradientStage {
    private let lovaszGradient: CLKernel
    private let reduceSegmentLosses: CLKernel
    private let configuration: KernelConfiguration

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        lovaszGradient = try program.makeKernel("lovasz_gradient")
        reduceSegmentLosses = try program.makeKernel("reduce_segment_losses")
        self.configuration = configuration
    }

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [reduceSegmentLosses] }

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

    /// `reduce_segment_losses`: `losses[segmentBase + j]`, the sum of segment j's `padded`
    /// terms in a fixed order, for j in `0 ..< segmentCount`.
    func enqueueSegmentLosses(
        terms: CLBuffer, losses: CLBuffer, padded: Int, segmentBase: Int, segmentCount: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try reduceSegmentLosses.setArguments(.buffer(terms), .buffer(losses), .count(padded), .count(segmentBase))
        let localSize = configuration.localSize
        try queue.launch(reduceSegmentLosses, globalSize: [segmentCount * localSize], localSize: [localSize])
    }
}
