/// The launch sequence of one call on one device, stage after stage, and the state kept
/// between calls (queue, kernels, buffers, staging). Not thread-safe: owned by
/// ``OpenCLBackend``'s lock.
///
/// A call plans on the device (`DevicePlanning.swift`: the labels validated and counted, one
/// small read-back of the class counts per group), then enqueues validation, probabilities,
/// per chunk of segments the keys, the sort, the scan, the gradient and the loss sums, then
/// the back-propagation, and reads back the loss (``launch(_:gradient:)``). The only other
/// read back inside the sequence is the kept count of every segment (a few bytes), which sizes
/// the sort.
// @unchecked Sendable: every access happens inside OpenCLBackend's Mutex, one thread at a time.
final class OpenCLPipeline: @unchecked Sendable {
    let context: CLContext
    let queue: PipelineQueue
    let stages: PipelineStages
    let configuration: KernelConfiguration
    let buffers: DeviceBuffers
    let transfers: TransferStage
    /// At most this many keys per chunk, when set.
    let chunkKeyLimit: Int?
    let trace = OpenCLTrace()

    /// A pipeline running `stages` on `queue` (of the stages' context: this library's own
    /// queue, or a caller's).
    init(
        queue: CLCommandQueue, stages: PipelineStages, configuration: KernelConfiguration, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool
    ) {
        self.context = queue.context
        self.queue = PipelineQueue(queue)
        self.stages = stages
        self.configuration = configuration
        self.buffers = DeviceBuffers(context: queue.context)
        self.transfers = TransferStage(context: queue.context, staged: stagedTransfers)
        self.chunkKeyLimit = chunkKeyLimit
    }

    /// Bytes of one loss term or loss sum on the device.
    var accumulatorBytes: Int { configuration.doubleAccumulation ? 8 : 4 }

    /// The device buffers holding one problem's inputs.
    struct Inputs {
        let scores: CLBuffer
        let classOf: CLBuffer
        /// The valid-pixel list, or a placeholder when the plan has none.
        let validPixels: CLBuffer
        let segments: CLBuffer
        let weights: CLBuffer
        /// The largest group's valid pixel count (at least 1).
        let largestGroup: Int
    }

    /// Runs the launch sequence on `launch`'s inputs (planned on the device) and reads back
    /// the loss, and the gradient when its destination is host memory.
    func launch(_ launch: LaunchInputs, gradient destination: GradientDestination) throws(OpenCLError) -> OpenCLOutcome {
        let shape = launch.shape
        guard shape.scoreCount < Int(UInt32.max) else {
            throw OpenCLError(
                status: -61, call: "plan", detail: "\(shape.scoreCount) scores exceed the 32-bit indices of the kernels")
        }
        queue.phase = .plan
        let table = SegmentTable(plan: launch.plan, shape: shape)
        let segments = try buffers.buffer(.segments, bytes: table.entries.count * 4)
        let weights = try buffers.buffer(.weights, bytes: table.weights.count * 4)
        if !table.entries.isEmpty {
            try queue.write(table.entries, to: segments)
            try queue.write(table.weights, to: weights)
        }
        var validPixels = try buffers.buffer(.placeholder, bytes: 16)
        if let list = launch.validPixels { validPixels = list }
        let inputs = Inputs(
            scores: launch.scores, classOf: launch.classOf, validPixels: validPixels, segments: segments,
            weights: weights, largestGroup: table.largestGroup)
        var target: CLBuffer?
        switch destination {
        case .none: break
        case .host: target = try buffers.buffer(.gradient, bytes: shape.scoreCount * 4)
        case .device(let buffer): target = buffer
        }
        let output = try self.launch(launch, inputs: inputs, gradientInto: target)
        queue.phase = .download
        if case .host(let gradient) = destination, let output {
            try transfers.download(output, into: UnsafeMutableRawBufferPointer(gradient), on: queue)
        }
        trace.mark("launch sequence and gradient read back")
        let outcome = try readOutcome(launch.plan)
        trace.mark("status and losses read back")
        return outcome
    }

    /// Enqueues the upload of host scores into the pipeline's scores buffer (through pinned
    /// memory on a discrete device); `values` must stay valid until the call's read-back.
    func uploadScores(_ values: UnsafeBufferPointer<Float>) throws(OpenCLError) -> CLBuffer {
        trace.start()
        queue.phase = .upload
        let scores = try buffers.buffer(.scores, bytes: values.count * 4)
        if !values.isEmpty { try transfers.enqueueUpload(UnsafeRawBufferPointer(values), to: scores, on: queue) }
        return scores
    }

    /// Enqueues the launch sequence on inputs already on the device.
    ///
    /// - Parameter target: receives `∂loss/∂scores` ([B, C, S]) when given.
    /// - Returns: `target`.
    func launch(_ problem: LaunchInputs, inputs: Inputs, gradientInto target: CLBuffer?) throws(OpenCLError) -> CLBuffer? {
        let shape = problem.shape
        let loss = problem.options.loss
        let logits = problem.options.scoresAre == .logits
        let scoreCount = shape.scoreCount
        let segmentCount = problem.plan.segments.count
        let computeGradient = target != nil

        queue.phase = .keys
        let status = try buffers.buffer(.status, bytes: 4)
        try queue.fill(status, with: UInt32.max, count: 1)
        try stages.scores.enqueueFindNonFinite(scores: inputs.scores, count: scoreCount, status: status, on: queue)
        var values = inputs.scores
        if loss != .hinge && logits {
            values = try buffers.buffer(.probabilities, bytes: scoreCount * 4)
            if loss == .softmax {
                try stages.scores.enqueueSoftmax(
                    logits: inputs.scores, probabilities: values, batch: shape.batch, classes: shape.channels,
                    spatial: shape.spatial, on: queue)
            } else {
                try stages.scores.enqueueSigmoid(logits: inputs.scores, probabilities: values, count: scoreCount, on: queue)
            }
        }

        // ∂loss/∂(probability or hinge logit), class-major [C][B·S], zero where not written.
        var output: CLBuffer?
        var upstream = try buffers.buffer(.placeholder, bytes: 16)
        if let gradient = target {
            output = gradient
            let direct = loss == .hinge || (loss == .sigmoid && !logits)
            upstream = direct ? gradient : try buffers.buffer(.upstream, bytes: scoreCount * 4)
            try queue.fill(upstream, with: Float(0), count: scoreCount)
        }

        let losses = try buffers.buffer(.segmentLosses, bytes: max(segmentCount, 1) * accumulatorBytes)
        if segmentCount > 0 {
            let keyInputs = KeyStage.Inputs(
                values: values, classOf: inputs.classOf, validPixels: inputs.validPixels, segments: inputs.segments,
                classes: shape.channels, spatial: shape.spatial, hinge: loss == .hinge)
            try enqueueSegments(
                shape, segmentCount: segmentCount, inputs: inputs, keyInputs: keyInputs, upstream: upstream, writeGradient: computeGradient,
                losses: losses)
        }

        queue.phase = .backpropagation
        if let output {
            switch (loss, logits) {
            case (.softmax, _):
                try stages.backpropagation.enqueueSoftmax(
                    probabilities: logits ? values : inputs.scores, upstream: upstream, gradient: output,
                    batch: shape.batch, classes: shape.channels, spatial: shape.spatial, fromLogits: logits, on: queue)
            case (.sigmoid, true):
                try stages.backpropagation.enqueueSigmoid(
                    probabilities: values, upstream: upstream, gradient: output, count: scoreCount, on: queue)
            case (.hinge, _), (.sigmoid, false):
                break
            }
        }
        return output
    }

    /// Reads back the validation status and the loss (waiting for the launch sequence).
    func readOutcome(_ plan: SegmentPlan) throws(OpenCLError) -> OpenCLOutcome {
        queue.phase = .download
        let status = try buffers.buffer(.status, bytes: 4)
        let firstBad = try queue.read(UInt32.self, count: 1, from: status)[0]
        let segmentCount = plan.segments.count
        var total = 0.0
        if segmentCount > 0 {
            let losses = try buffers.buffer(.segmentLosses, bytes: segmentCount * accumulatorBytes)
            let sums: [Double] = configuration.doubleAccumulation
                ? try queue.read(Double.self, count: segmentCount, from: losses)
                : try queue.read(Float.self, count: segmentCount, from: losses).map(Double.init)
            for (segment, sum) in zip(plan.segments, sums) { total += segment.weight * sum }
        }
        return OpenCLOutcome(loss: total, firstNonFinite: firstBad == UInt32.max ? nil : Int(firstBad))
    }
}

/// What one launch sequence read back.
struct OpenCLOutcome: Sendable {
    var loss: Double
    var firstNonFinite: Int?
}
