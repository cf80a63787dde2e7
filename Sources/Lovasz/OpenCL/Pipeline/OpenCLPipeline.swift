/// The launch sequence of one call on one device, stage after stage, and the state kept
/// between calls (queues, kernels, buffers, staging). Not thread-safe: owned by
/// ``OpenCLBackend``'s lock.
///
/// A call plans on the device (`DevicePlanning.swift`: the labels validated and counted, one
/// small read-back of the class counts per group), then enqueues, chunk by chunk of images as
/// the scores arrive, the widening of 16-bit scores, validation and probabilities; per chunk of
/// segments the keys, the sort, the scan, the gradient and the loss sums; then, chunk by chunk
/// of images, the back-propagation; and reads back the loss (``launch(_:gradient:)``). The only
/// other read back inside the sequence is the kept count of every segment (a few bytes), which
/// sizes the sort.
final class OpenCLPipeline: @unchecked Sendable {
    let context: CLContext
    /// The queues in use: ``plainQueue``, or a profiling one inside ``profiled(_:)``.
    var queue: PipelineQueue
    /// The queues of every call: the backend's (or a caller's) queue and a transfer queue.
    let plainQueue: PipelineQueue
    var profilingQueue: PipelineQueue?
    let stages: PipelineStages
    let configuration: KernelConfiguration
    let buffers: DeviceBuffers
    let transfers: TransferStage
    /// At most this many keys per chunk, when set.
    let chunkKeyLimit: Int?
    /// The scores and the gradient move in chunks of whole images of about this many bytes,
    /// overlapping the kernels; in one piece when nil.
    let transferChunkBytes: Int?
    let trace = OpenCLTrace()

    /// A pipeline running `stages` on `queue` (of the stages' context: this library's own
    /// queue, or a caller's), with a second queue of that context for the chunked transfers.
    ///
    /// - Throws: ``OpenCLError`` from creating the transfer queue.
    init(
        queue: CLCommandQueue, stages: PipelineStages, configuration: KernelConfiguration, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool, transferChunkBytes: Int?
    ) throws(OpenCLError) {
        self.context = queue.context
        self.plainQueue = try PipelineQueue(queue)
        self.queue = plainQueue
        self.transferChunkBytes = transferChunkBytes
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
        /// The scores as float32 (widened on the device from ``DeviceScores/narrow``, when set).
        let scores: DeviceScores
        let classOf: CLBuffer
        /// The valid-pixel list, or a placeholder when the plan has none.
        let validPixels: CLBuffer
        let segments: CLBuffer
        let weights: CLBuffer
        /// The large segments and their blocks, for the key kernels.
        let blocks: SegmentBlocks
    }

    /// The gradient of the scores on the device, and for each transfer chunk the commands
    /// that write its part.
    struct GradientOutput {
        let buffer: CLBuffer
        let ready: [[CLEvent]]
    }

    /// Where ``launch(_:inputs:gradient:)`` writes `∂loss/∂scores`: a float32 buffer, and
    /// when set a 16-bit buffer that receives it rounded once.
    struct GradientTarget {
        let float32: CLBuffer
        let narrow: (buffer: CLBuffer, type: ScoreType)?
    }

    /// Runs the launch sequence on `launch`'s inputs (planned on the device) and reads back
    /// the loss, and the gradient when its destination is host memory (chunk by chunk, each
    /// once written).
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
            weights: weights, blocks: SegmentBlocks(counts: table.validCounts, blockSize: configuration.boundBlock))
        let scoreCount = shape.scoreCount
        var target: GradientTarget?
        switch destination {
        case .none: break
        case .host(let gradient):
            let narrow = gradient.type == .float32
                ? nil : (buffer: try buffers.buffer(.narrowGradient, bytes: scoreCount * gradient.type.byteCount), type: gradient.type)
            target = GradientTarget(float32: try buffers.buffer(.gradient, bytes: scoreCount * 4), narrow: narrow)
        case .device(let buffer, let type) where type == .float32:
            target = GradientTarget(float32: buffer, narrow: nil)
        case .device(let buffer, let type):
            target = GradientTarget(float32: try buffers.buffer(.gradient, bytes: scoreCount * 4), narrow: (buffer, type))
        }
        let output = try self.launch(launch, inputs: inputs, gradient: target)
        queue.phase = .download
        if case .host(let gradient) = destination, let output {
            let bytesPerImage = shape.channels * shape.spatial * gradient.type.byteCount
            try transfers.download(
                output.buffer, into: gradient.bytes, chunks: launch.scores.chunks.byteRanges(bytesPerImage: bytesPerImage),
                ready: output.ready, on: queue)
        }
        trace.mark("launch sequence and gradient read back")
        let outcome = try readOutcome(launch.plan)
        trace.mark("status and losses read back")
        return outcome
    }

    /// Enqueues the upload of host scores (float32 or 16-bit, as they are) in chunks of whole
    /// images on the transfer queue (through pinned memory on a discrete device); `values` must
    /// stay valid until the call's read-back.
    func uploadScores(_ values: UnsafeRawBufferPointer, type: ScoreType, shape: ProblemShape) throws(OpenCLError) -> DeviceScores {
        queue.phase = .upload
        let scores = try buffers.buffer(.scores, bytes: shape.scoreCount * 4)
        let narrow = type == .float32 ? nil : (buffer: try buffers.buffer(.narrowScores, bytes: values.count), type: type)
        let bytesPerImage = shape.channels * shape.spatial * type.byteCount
        let chunks = ImageChunks(batch: shape.batch, bytesPerImage: bytesPerImage, chunkBytes: transferChunkBytes)
        let ranges = chunks.byteRanges(bytesPerImage: bytesPerImage).filter { !$0.isEmpty }
        let uploaded = ranges.isEmpty
            ? [] : try transfers.enqueueUpload(values, to: narrow?.buffer ?? scores, chunks: ranges, on: queue)
        let ready = uploaded.count == chunks.images.count ? uploaded.map { [$0] } : chunks.images.map { _ in [] }
        trace.mark("score uploads enqueued")
        return DeviceScores(float32: scores, narrow: narrow, chunks: chunks, ready: ready)
    }

    /// Enqueues the launch sequence on inputs already on the device.
    ///
    /// - Parameter target: receives `∂loss/∂scores` ([B, C, S]) when given.
    /// - Returns: the buffer holding `∂loss/∂scores` (the target's narrow one when set) and
    ///   the commands writing each transfer chunk of it, when a target is given.
    func launch(_ problem: LaunchInputs, inputs: Inputs, gradient target: GradientTarget?) throws(OpenCLError) -> GradientOutput? {
        let computeGradient = target != nil
        let shape = problem.shape
        let loss = problem.options.loss
        let logits = problem.options.scoresAre == .logits
        let scoreCount = shape.scoreCount
        let segmentCount = problem.plan.segmentCount

        queue.phase = .keys
        let status = try buffers.buffer(.status, bytes: 4)
        try queue.fill(status, with: UInt32.max, count: 1)
        let probabilities = loss != .hinge && logits
        let givenProbabilities = loss != .hinge && !logits
        let scores = inputs.scores.float32
        let values = probabilities ? try buffers.buffer(.probabilities, bytes: scoreCount * 4) : scores
        let perImage = shape.channels * shape.spatial
        let chunks = inputs.scores.chunks
        // Chunk by chunk, each after its upload (while the next uploads).
        for (images, uploaded) in zip(chunks.images, inputs.scores.ready) where perImage > 0 {
            let first = images.lowerBound * perImage, count = images.count * perImage
            if let narrow = inputs.scores.narrow {
                try stages.scores.enqueueWiden(
                    bits: narrow.buffer, scores: scores, type: narrow.type, first: first, count: count,
                    waitingFor: uploaded, on: queue)
            }
            // The probabilities' kernels validate the logits as they read them.
            guard probabilities else {
                if givenProbabilities {
                    try stages.scores.enqueueFindOutsideUnitInterval(
                        scores: scores, first: first, count: count, status: status, waitingFor: uploaded, on: queue)
                } else {
                    try stages.scores.enqueueFindNonFinite(
                        scores: scores, first: first, count: count, status: status, waitingFor: uploaded, on: queue)
                }
                continue
            }
            if loss == .softmax {
                try stages.scores.enqueueSoftmax(
                    logits: scores, probabilities: values, classes: shape.channels, spatial: shape.spatial,
                    images: images, status: status, waitingFor: uploaded, on: queue)
            } else {
                try stages.scores.enqueueSigmoid(
                    logits: scores, probabilities: values, first: first, count: count, status: status,
                    waitingFor: uploaded, on: queue)
            }
        }

        // ∂loss/∂(probability or hinge logit), class-major [C][B·S], zero where not written.
        var output: CLBuffer?
        var upstream = try buffers.buffer(.placeholder, bytes: 16)
        let direct = loss == .hinge || (loss == .sigmoid && !logits)
        if let gradient = target?.float32 {
            output = gradient
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

        guard let output else { return nil }
        // Chunk by chunk, so that the download of each chunk overlaps the next.
        queue.phase = .backpropagation
        var ready: [[CLEvent]] = []
        for images in chunks.images {
            let written: CLEvent? =
                switch (loss, logits) {
                case (.softmax, _):
                    try stages.backpropagation.enqueueSoftmax(
                        probabilities: logits ? values : scores, upstream: upstream, gradient: output,
                        batch: shape.batch, classes: shape.channels, spatial: shape.spatial, fromLogits: logits,
                        images: images, on: queue)
                case (.sigmoid, true):
                    try stages.backpropagation.enqueueSigmoid(
                        probabilities: values, upstream: upstream, gradient: output, first: images.lowerBound * perImage,
                        count: images.count * perImage, on: queue)
                case (.hinge, _), (.sigmoid, false):
                    queue.lastComputeEvent
                }
            ready.append(written.map { [$0] } ?? [])
        }
        guard let narrow = target?.narrow, perImage > 0 else { return GradientOutput(buffer: output, ready: ready) }
        // Rounded once to the 16-bit type, chunk by chunk.
        let narrowed = try chunks.images.map { (images) throws(OpenCLError) in
            try [stages.backpropagation.enqueueNarrow(
                gradient: output, bits: narrow.buffer, type: narrow.type, first: images.lowerBound * perImage,
                count: images.count * perImage, on: queue)]
        }
        return GradientOutput(buffer: narrow.buffer, ready: narrowed)
    }
}
