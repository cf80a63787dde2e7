/// The Lovász gradient at every sorted position and the per-segment loss sums: the kernels
/// of `Kernels/lovasz_gradient.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class GradientStage {
    private let lovaszGradient: CLKernel
    private let reduceTermBlocks: CLKernel
    private let reduceSegmentLosses: CLKernel
    private let reduceSmallSegmentLosses: CLKernel
    private let configuration: KernelConfiguration

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        lovaszGradient = try program.makeKernel("lovasz_gradient")
        reduceTermBlocks = try program.makeKernel("reduce_term_blocks")
        reduceSegmentLosses = try program.makeKernel("reduce_segment_losses")
        reduceSmallSegmentLosses = try program.makeKernel("reduce_small_segment_losses")
        self.configuration = configuration
    }

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [reduceTermBlocks, reduceSegmentLosses] }

    /// `lovasz_gradient`: over the segments of the chunk's `slots` (of ``SortBatches/order``)
    /// of `padded` sorted keys each (a power of two, or a multiple of the scan tile), the loss
    /// terms into `terms` and, when `writeGradient`, the weighted gradient scattered into
    /// `upstream` (class-major [C][pixelCount]).
    func enqueueGradient(
        keys: CLBuffer, counts: CLBuffer, tileCarries: CLBuffer, segments: CLBuffer, validPixels: CLBuffer,
        weights: CLBuffer, kept: CLBuffer, order: CLBuffer, terms: CLBuffer, upstream: CLBuffer, padded: Int,
        pixelCount: Int, hinge: Bool, writeGradient: Bool, slots: Range<Int>, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try lovaszGradient.setArguments(
            .buffer(keys), .buffer(counts), .buffer(tileCarries), .buffer(segments), .buffer(validPixels),
            .buffer(weights), .buffer(kept), .buffer(order), .buffer(terms), .buffer(upstream),
            .count(padded), .count(pixelCount), .flag(hinge), .flag(writeGradient), .count(slots.lowerBound),
            .count(slots.count * padded))
        let lanes = configuration.vectorLanes
        try queue.launch(lovaszGradient, globalSize: [(slots.count * padded + lanes - 1) / lanes])
    }

    /// Terms summed by one work-group of `reduce_term_blocks`.
    var reduceBlock: Int { configuration.localSize * KernelLayout.reduceItems }

    /// `losses[order[slots.lowerBound + j]]`, the sum of slot j's `padded` terms in a fixed
    /// order, for every slot of the chunk: for slots of at most
    /// ``KernelConfiguration/localSize`` terms one work-item per slot; else per block of
    /// ``reduceBlock`` terms on many work-groups (`reduce_term_blocks`), then the blocks in
    /// order (`reduce_segment_losses`).
    ///
    /// - Parameter partials: `slots.count · ⌈padded / reduceBlock⌉` accumulators of scratch.
    func enqueueSegmentLosses(
        terms: CLBuffer, partials: CLBuffer, losses: CLBuffer, order: CLBuffer, padded: Int, slots: Range<Int>,
        on queue: PipelineQueue
    ) throws(OpenCLError) {
        let localSize = configuration.localSize
        if padded <= localSize {
            try reduceSmallSegmentLosses.setArguments(
                .buffer(terms), .buffer(losses), .buffer(order), .count(padded), .count(slots.lowerBound),
                .count(slots.count))
            try queue.launch(reduceSmallSegmentLosses, globalSize: [slots.count])
            return
        }
        let blocks = (padded + reduceBlock - 1) / reduceBlock
        try reduceTermBlocks.setArguments(.buffer(terms), .buffer(partials), .count(padded), .count(blocks))
        try queue.launch(reduceTermBlocks, globalSize: [blocks * localSize, slots.count], localSize: [localSize, 1])
        try reduceSegmentLosses.setArguments(
            .buffer(partials), .buffer(losses), .buffer(order), .count(blocks), .count(slots.lowerBound))
        try queue.launch(reduceSegmentLosses, globalSize: [slots.count * localSize], localSize: [localSize])
    }
}
