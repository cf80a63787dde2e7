/// Validation and probabilities: the kernels of `Kernels/lovasz_scores.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class ScoreStage {
    private let widenScores: CLKernel
    private let findNonFinite: CLKernel
    private let findOutsideUnitInterval: CLKernel
    private let softmaxProbabilities: CLKernel
    private let sigmoidProbabilities: CLKernel
    /// Pixels per work-item of the softmax (``KernelConfiguration/vectorLanes``).
    private let vectorLanes: Int

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        vectorLanes = configuration.vectorLanes
        widenScores = try program.makeKernel("widen_scores")
        findNonFinite = try program.makeKernel("find_nonfinite")
        findOutsideUnitInterval = try program.makeKernel("find_outside_unit_interval")
        softmaxProbabilities = try program.makeKernel("softmax_probabilities")
        sigmoidProbabilities = try program.makeKernel("sigmoid_probabilities")
    }

    /// `widen_scores`: the 16-bit scores `first ..< first + count` (count ≥ 1) of `bits`, of
    /// `type` (float16 or bfloat16), into the floats `scores`, exactly, after `events`.
    func enqueueWiden(
        bits: CLBuffer, scores: CLBuffer, type: ScoreType, first: Int, count: Int, waitingFor events: [CLEvent],
        on queue: PipelineQueue
    ) throws(OpenCLError) {
        precondition(type != .float32, "only 16-bit scores are widened")
        try widenScores.setArguments(.buffer(bits), .buffer(scores), .count(first), .count(count), .flag(type == .bfloat16))
        try queue.launch(widenScores, globalSize: [count], waitingFor: events)
    }

    /// `find_nonfinite`: lowers `status[0]` to the smallest index of a NaN or infinity among
    /// the floats `first ..< first + count` (count ≥ 1) of `scores`, after `events`; `status[0]`
    /// must start at `UInt32.max`.
    func enqueueFindNonFinite(
        scores: CLBuffer, first: Int, count: Int, status: CLBuffer, waitingFor events: [CLEvent], on queue: PipelineQueue
    ) throws(OpenCLError) {
        try findNonFinite.setArguments(.buffer(scores), .count(first), .count(count), .buffer(status))
        try queue.launch(findNonFinite, globalSize: [count], waitingFor: events)
    }

    /// `find_outside_unit_interval`: lowers `status[0]` to the smallest index of a value
    /// outside `[0, 1]` (NaN and infinities included; -0 accepted) among the floats
    /// `first ..< first + count` (count ≥ 1) of `scores`, after `events`; `status[0]` must start
    /// at `UInt32.max`. For scores given as probabilities, in place of `find_nonfinite`.
    func enqueueFindOutsideUnitInterval(
        scores: CLBuffer, first: Int, count: Int, status: CLBuffer, waitingFor events: [CLEvent], on queue: PipelineQueue
    ) throws(OpenCLError) {
        try findOutsideUnitInterval.setArguments(.buffer(scores), .count(first), .count(count), .buffer(status))
        try queue.launch(findOutsideUnitInterval, globalSize: [count], waitingFor: events)
    }

    /// `softmax_probabilities`: the softmax over the class axis of `logits` [B, classes,
    /// spatial] into `probabilities` (same shape) for the images `images`, bit for bit as the
    /// CPU path, after `events`; the first NaN or infinite logit into `status[0]` (as
    /// ``enqueueFindNonFinite(scores:first:count:status:waitingFor:on:)``).
    func enqueueSoftmax(
        logits: CLBuffer, probabilities: CLBuffer, classes: Int, spatial: Int, images: Range<Int>, status: CLBuffer,
        waitingFor events: [CLEvent], on queue: PipelineQueue
    ) throws(OpenCLError) {
        try softmaxProbabilities.setArguments(
            .buffer(logits), .buffer(probabilities), .count(classes), .count(spatial), .count(images.lowerBound),
            .count(images.count), .buffer(status))
        let pixels = images.count * spatial
        try queue.launch(
            softmaxProbabilities, globalSize: [(pixels + vectorLanes - 1) / vectorLanes], waitingFor: events)
    }

    /// `sigmoid_probabilities`: the logistic sigmoid of the logits `first ..< first + count`
    /// (count ≥ 1), bit for bit as the CPU path, after `events`; the first NaN or infinite
    /// logit into `status[0]`.
    func enqueueSigmoid(
        logits: CLBuffer, probabilities: CLBuffer, first: Int, count: Int, status: CLBuffer,
        waitingFor events: [CLEvent], on queue: PipelineQueue
    ) throws(OpenCLError) {
        try sigmoidProbabilities.setArguments(
            .buffer(logits), .buffer(probabilities), .count(first), .count(count), .buffer(status))
        try queue.launch(sigmoidProbabilities, globalSize: [count], waitingFor: events)
    }
}
