/// From the gradient of the probabilities (class-major [C][B·S]) to that of the scores
/// ([B, C, S]): the kernels of `Kernels/backprop.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class BackpropagationStage {
    private let backpropSoftmax: CLKernel
    private let backpropSigmoid: CLKernel
    private let narrowGradient: CLKernel
    /// Pixels per work-item of `backprop_softmax` (``KernelConfiguration/vectorLanes``).
    private let vectorLanes: Int

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        vectorLanes = configuration.vectorLanes
        backpropSoftmax = try program.makeKernel("backprop_softmax")
        backpropSigmoid = try program.makeKernel("backprop_sigmoid")
        narrowGradient = try program.makeKernel("narrow_gradient")
    }

    /// `backprop_softmax`: for the pixels of the images `images` of `batch`, from logits
    /// f(k)·(G(k) − Σ_c f(c)·G(c)) with `probabilities` f; from probabilities (`fromLogits`
    /// false), the transpose of `upstream` G.
    ///
    /// - Returns: the launch's event.
    func enqueueSoftmax(
        probabilities: CLBuffer, upstream: CLBuffer, gradient: CLBuffer, batch: Int, classes: Int, spatial: Int,
        fromLogits: Bool, images: Range<Int>, on queue: PipelineQueue
    ) throws(OpenCLError) -> CLEvent {
        try backpropSoftmax.setArguments(
            .buffer(probabilities), .buffer(upstream), .buffer(gradient), .count(batch), .count(classes),
            .count(spatial), .flag(fromLogits), .count(images.lowerBound), .count(images.count))
        let pixels = images.count * spatial
        return try queue.launch(backpropSoftmax, globalSize: [(pixels + vectorLanes - 1) / vectorLanes])
    }

    /// `backprop_sigmoid`: G·p·(1 − p) for the elements `first ..< first + count` (count ≥ 1).
    ///
    /// - Returns: the launch's event.
    func enqueueSigmoid(
        probabilities: CLBuffer, upstream: CLBuffer, gradient: CLBuffer, first: Int, count: Int, on queue: PipelineQueue
    ) throws(OpenCLError) -> CLEvent {
        try backpropSigmoid.setArguments(
            .buffer(probabilities), .buffer(upstream), .buffer(gradient), .count(first), .count(count))
        return try queue.launch(backpropSigmoid, globalSize: [count])
    }

    /// `narrow_gradient`: the float gradient entries `first ..< first + count` (count ≥ 1)
    /// rounded to `type` (float16 or bfloat16), to nearest with ties to even, into `bits`.
    ///
    /// - Returns: the launch's event.
    func enqueueNarrow(
        gradient: CLBuffer, bits: CLBuffer, type: ScoreType, first: Int, count: Int, on queue: PipelineQueue
    ) throws(OpenCLError) -> CLEvent {
        precondition(type != .float32, "only to 16-bit types")
        try narrowGradient.setArguments(.buffer(gradient), .buffer(bits), .count(first), .count(count), .flag(type == .bfloat16))
        return try queue.launch(narrowGradient, globalSize: [count])
    }
}
