/// The Lovász gradient at every sorted position and the per-segment loss sums: the kernels
/// of `Kernels/lovasz_gradient.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class GradientStage {
    private let lovaszGradient: CLKernel
    private let reduceSegmentLosses: CLKernel
    private let reduceSmallSegmentLosses: CLKernel
    private let configuration: KernelConfiguration

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        lovaszGradient = try program.makeKernel("lovasz_gradient")
        reduceSegmentLosses = try program.makeKernel("reduce_segment_losses")
        reduceSmallSegmentLosses = try program.makeKernel("reduce_small_segment_losses")
        self.configuration = configuration
    }

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [reduceSegmentLosses] }

    /// `lovasz_gradient`: over the segments of the chunk's `slots` (of ``SortBatches/order``)
    /// of `padded` (a power of two) sorted keys each, the loss terms into `terms` and, when
    /// `writeGradient`, the weighted gradient scattered into `upstream` (class-major
    /// [C][pixelCount]).
    func enqueueGradient(
        keys: CLBuffer, counts: CLBuffer, tileCarries: CLBuffer, segments: CLBuffer, validPixels: CLBuffer,
        weights: CLBuffer, kept: CLBuffer, order: CLBuffer, terms: CLBuffer, upstream: CLBuffer, padded: Int,
        pixelCount: Int, hinge: Bool, writeGradient: Bool, slots: Range<Int>, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try lovaszGradient.setArguments(
            .buffer(keys), .buffer(counts), .buffer(tileCarries), .buffer(segments), .buffer(validPixels),
            .buffer(weights), .buffer(kept), .buffer(order), .buffer(terms), .buffer(upstream),
            .count(padded.trailingZeroBitCount), .count(pixelCount), .flag(hinge), .flag(writeGradient),
            .count(slots.lowerBound))
        try queue.launch(lovaszGradient, globalSize: [slots.count * padded])
    }

    /// `losses[order[slots.lowerBound + j]]`, the sum of slot j's `padded` terms in a fixed
    /// order, for every slot of the chunk: one work-group per slot, or for slots of at most
    /// ``KernelConfiguration/localSize`` terms one work-item per slot.
    func enqueueSegmentLosses(
        terms: CLBuffer, losses: CLBuffer, order: CLBuffer, padded: Int, slots: Range<Int>, on queue: PipelineQueue
    ) throws(OpenCLError) {
        let localSize = configuration.localSize
        if padded <= localSize {
            try reduceSmallSegmentLosses.setArguments(
                .buffer(terms), .buffer(losses), .buffer(order), .count(padded), .count(slots.lowerBound),
                .count(slots.count))
            try queue.launch(reduceSmallSegmentLosses, globalSize: [slots.count])
        } else {
            try reduceSegmentLosses.setArguments(
                .buffer(terms), .buffer(losses), .buffer(order), .count(padded), .count(slots.lowerBound))
            try queue.launch(reduceSegmentLosses, globalSize: [slots.count * localSize], localSize: [localSize])
        }
    }
}
