/// From the gradient of the probabilities (class-major [C][B·S]) to that of the scores
/// ([B, C, S]): the kernels of `Kernels/backprop.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class BackpropagationStage {
    private let backpropSoftmax: CLKernel
    private let backpropSigmoid: CLKernel

    init(program: CLProgram) throws(OpenCLError) {
        backpropSoftmax = try program.makeKernel("backprop_softmax")
        backpropSigmoid = try program.makeKernel("backprop_sigmoid")
    }

    /// `backprop_softmax`: from logits, f(k)·(G(k) − Σ_c f(c)·G(c)) with `probabilities` f;
    /// from probabilities (`fromLogits` false), the transpose of `upstream` G.
    func enqueueSoftmax(
        probabilities: CLBuffer, upstream: CLBuffer, gradient: CLBuffer, batch: Int, classes: Int, spatial: Int,
        fromLogits: Bool, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try backpropSoftmax.setArguments(
            .buffer(probabilities), .buffer(upstream), .buffer(gradient), .count(batch), .count(classes),
            .count(spatial), .flag(fromLogits))
        try queue.launch(backpropSoftmax, globalSize: [batch * spatial])
    }

    /// `backprop_sigmoid`: G·p·(1 − p) for `count` (≥ 1) elements.
    func enqueueSigmoid(
        probabilities: CLBuffer, upstream: CLBuffer, gradient: CLBuffer, count: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try backpropSigmoid.setArguments(.buffer(probabilities), .buffer(upstream), .buffer(gradient), .count(count))
        try queue.launch(backpropSigmoid, globalSize: [count])
    }
}
