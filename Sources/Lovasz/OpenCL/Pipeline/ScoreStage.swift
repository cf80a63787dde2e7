/// Validation and probabilities: the kernels of `Kernels/lovasz_scores.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class ScoreStage {
    private let findNonFinite: CLKernel
    private let softmaxProbabilities: CLKernel
    private let sigmoidProbabilities: CLKernel

    init(program: CLProgram) throws(OpenCLError) {
        findNonFinite = try program.makeKernel("find_nonfinite")
        softmaxProbabilities = try program.makeKernel("softmax_probabilities")
        sigmoidProbabilities = try program.makeKernel("sigmoid_probabilities")
    }

    /// `find_nonfinite`: lowers `status[0]` to the smallest index of a NaN or infinity among
    /// the first `count` (≥ 1) floats of `scores`; `status[0]` must start at `UInt32.max`.
    func enqueueFindNonFinite(scores: CLBuffer, count: Int, status: CLBuffer, on queue: PipelineQueue) throws(OpenCLError) {
        try findNonFinite.setArguments(.buffer(scores), .count(count), .buffer(status))
        try queue.launch(findNonFinite, globalSize: [count])
    }

    /// `softmax_probabilities`: the softmax over the class axis of `logits` [batch, classes,
    /// spatial] into `probabilities` (same shape), bit for bit as the CPU path.
    func enqueueSoftmax(
        logits: CLBuffer, probabilities: CLBuffer, batch: Int, classes: Int, spatial: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try softmaxProbabilities.setArguments(
            .buffer(logits), .buffer(probabilities), .count(batch), .count(classes), .count(spatial))
        try queue.launch(softmaxProbabilities, globalSize: [batch * spatial])
    }

    /// `sigmoid_probabilities`: the logistic sigmoid of `count` (≥ 1) logits, bit for bit as
    /// the CPU path.
    func enqueueSigmoid(logits: CLBuffer, probabilities: CLBuffer, count: Int, on queue: PipelineQueue) throws(OpenCLError) {
        try sigmoidProbabilities.setArguments(.buffer(logits), .buffer(probabilities), .count(count))
        try queue.launch(sigmoidProbabilities, globalSize: [count])
    }
}
