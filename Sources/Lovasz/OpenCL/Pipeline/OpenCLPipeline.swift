/// The launch sequence of one call on one device, stage after stage, and the state kept
/// between calls (queue, kernels, buffers, staging). Not thread-safe: owned by
/// ``OpenCLBackend``'s lock.
///
/// A call uploads the inputs (``upload(_:)``), enqueues validation, probabilities, per chunk
/// of segments the keys, the sort, the scan, the gradient and the loss sums, then the
/// back-propagation (``launch(_:inputs:computeGradient:)``), and reads back the gradient and
/// the loss (``run(_:gradient:)``). The only read back inside the sequence is the kept count
/// of every segment (a few bytes), which sizes the sort.
// @unchecked Sendable: every access happens inside OpenCLBackend's Mutex, one thread at a time.
final class OpenCLPipeline: @unchecked Sendable {
    let context: CLContext
    /// The queues in use: ``plainQueue``, or a profiling one inside ``profiled(_:)``.
    var queue: PipelineQueue
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

    init(
        program: CLProgram, stages: PipelineStages, configuration: KernelConfiguration, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool, transferChunkBytes: Int?
    ) throws(OpenCLError) {
        self.context = program.context
        self.plainQueue = try PipelineQueue(context: program.context)
        self.queue = plainQueue
        self.transferChunkBytes = transferChunkBytes
        self.stages = stages
        self.configuration = configuration
        self.buffers = DeviceBuffers(context: program.context)
        self.transfers = TransferStage(context: program.context, staged: stagedTransfers)
        self.chunkKeyLimit = chunkKeyLimit
    }

    /// Bytes of one loss term or loss sum on the device.
    var accumulatorBytes: Int { configuration.doubleAccumulation ? 8 : 4 }

    /// The device buffers holding one problem's inputs.
    struct Inputs {
        /// The scores as float32 (widened on the device from ``narrowScores``, when set).
        let scores: CLBuffer
        /// The caller's 16-bit scores, as uploaded, and their type.
        let narrowScores: (buffer: CLBuffer, type: ScoreType)?
        let classOf: CLBuffer
        /// The valid-pixel list, or a placeholder when the plan has none.
        let validPixels: CLBuffer
        let segments: CLBuffer
        let weights: CLBuffer
        /// The largest group's valid pixel count (at least 1).
        let largestGroup: Int
        /// The images of each transfer chunk.
        let chunks: ImageChunks
        /// For each chunk, the upload of its scores.
        let scoresUploaded: [CLEvent]
    }

    /// The gradient of the scores on the device, and for each transfer chunk the commands
    /// that write its part.
    struct GradientOutput {
        let buffer: CLBuffer
        let ready: [[CLEvent]]
    }

    /// Computes the loss of `problem` and, when `gradient` is given, `∂loss/∂scores` into it.
    func run(_ problem: LossProblem, gradient: GradientBuffer?) throws(OpenCLError) -> OpenCLOutcome {
        trace.start()
        let inputs = try upload(problem)
        let output = try launch(problem, inputs: inputs, gradientType: gradient?.type)
        queue.phase = .download
        if let gradient, let output {
            let bytesPerImage = problem.shape.channels * problem.shape.spatial * gradient.type.byteCount
            try transfers.download(
                output.buffer, into: gradient.bytes, chunks: inputs.chunks.byteRanges(bytesPerImage: bytesPerImage),
                ready: output.ready, on: queue)
        }
        trace.mark("launch sequence and gradient read back")
        let outcome = try readOutcome(problem)
        trace.mark("status and losses read back")
        return outcome
    }

    /// Enqueues the transfer of `problem`'s inputs to the device.
    func upload(_ problem: LossProblem) throws(OpenCLError) -> Inputs {
        let shape = problem.shape
        guard shape.scoreCount < Int(UInt32.max) else {
            throw OpenCLError(
                status: -61, call: "plan", detail: "\(shape.scoreCount) scores exceed the 32-bit indices of the kernels")
        }
        queue.phase = .upload
        let table = SegmentTable(problem: problem)
        let scores = try buffers.buffer(.scores, bytes: shape.scoreCount * 4)
        let narrow = problem.scoreType == .float32
            ? nil : (buffer: try buffers.buffer(.narrowScores, bytes: problem.scoreBytes.count), type: problem.scoreType)
        let bytesPerImage = shape.channels * shape.spatial * problem.scoreType.byteCount
        let chunks = ImageChunks(batch: shape.batch, bytesPerImage: bytesPerImage, chunkBytes: transferChunkBytes)
        let uploaded = try transfers.enqueueUpload(
            problem.scoreBytes, to: narrow?.buffer ?? scores, chunks: chunks.byteRanges(bytesPerImage: bytesPerImage),
            on: queue)
        let classOf = try buffers.buffer(.classOf, bytes: shape.pixelCount * 4)
        try queue.write(problem.labels.classOf, to: classOf)
        var validPixels = try buffers.buffer(.placeholder, bytes: 16)
        if let list = problem.plan.validPixels, !list.isEmpty {
            validPixels = try buffers.buffer(.validPixels, bytes: list.count * 4)
            try queue.write(list, to: validPixels)
        }
        let segments = try buffers.buffer(.segments, bytes: table.entries.count * 4)
        let weights = try buffers.buffer(.weights, bytes: table.weights.count * 4)
        if !table.entries.isEmpty {
            try queue.write(table.entries, to: segments)
            try queue.write(table.weights, to: weights)
        }
        trace.mark("uploads enqueued")
        return Inputs(
            scores: scores, narrowScores: narrow, classOf: classOf, validPixels: validPixels, segments: segments, weights: weights,
            largestGroup: table.largestGroup, chunks: chunks, scoresUploaded: uploaded)
    }

    /// Enqueues the launch sequence on inputs already on the device.
    ///
    /// - Parameter gradientType: compute `∂loss/∂scores` in this type; the loss only when nil.
    /// - Returns: `∂loss/∂scores` ([B, C, S]) when asked for.
    func launch(_ problem: LossProblem, inputs: Inputs, gradientType: ScoreType?) throws(OpenCLError) -> GradientOutput? {
        let computeGradient = gradientType != nil
        let shape = problem.shape
        let loss = problem.options.loss
        let logits = problem.options.scoresAre == .logits
        let scoreCount = shape.scoreCount
        let segmentCount = problem.plan.segments.count

        queue.phase = .keys
        let status = try buffers.buffer(.status, bytes: 4)
        try queue.fill(status, with: UInt32.max, count: 1)
        let probabilities = loss != .hinge && logits
        let values = probabilities ? try buffers.buffer(.probabilities, bytes: scoreCount * 4) : inputs.scores
        let perImage = shape.channels * shape.spatial
        // Chunk by chunk, each after its upload (while the next uploads).
        for (images, uploaded) in zip(inputs.chunks.images, inputs.scoresUploaded) {
            let first = images.lowerBound * perImage, count = images.count * perImage
            if let narrow = inputs.narrowScores {
                try stages.scores.enqueueWiden(
                    bits: narrow.buffer, scores: inputs.scores, type: narrow.type, first: first, count: count,
                    waitingFor: [uploaded], on: queue)
            }
            try stages.scores.enqueueFindNonFinite(
                scores: inputs.scores, first: first, count: count, status: status, waitingFor: [uploaded], on: queue)
            guard probabilities else { continue }
            if loss == .softmax {
                try stages.scores.enqueueSoftmax(
                    logits: inputs.scores, probabilities: values, classes: shape.channels, spatial: shape.spatial,
                    images: images, waitingFor: [uploaded], on: queue)
            } else {
                try stages.scores.enqueueSigmoid(
                    logits: inputs.scores, probabilities: values, first: first, count: count, waitingFor: [uploaded],
                    on: queue)
            }
        }

        // ∂loss/∂(probability or hinge logit), class-major [C][B·S], zero where not written.
        var output: CLBuffer?
        var upstream = try buffers.buffer(.placeholder, bytes: 16)
        let direct = loss == .hinge || (loss == .sigmoid && !logits)
        if computeGradient {
            let gradient = try buffers.buffer(.gradient, bytes: scoreCount * 4)
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
                problem, inputs: inputs, keyInputs: keyInputs, upstream: upstream, writeGradient: computeGradient,
                losses: losses)
        }

        guard let output else { return nil }
        // Chunk by chunk, so that the download of each chunk overlaps the next.
        queue.phase = .backpropagation
        var ready: [[CLEvent]] = []
        for images in inputs.chunks.images {
            let written: CLEvent? =
                switch (loss, logits) {
                case (.softmax, _):
                    try stages.backpropagation.enqueueSoftmax(
                        probabilities: logits ? values : inputs.scores, upstream: upstream, gradient: output,
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
        guard let gradientType, gradientType != .float32 else { return GradientOutput(buffer: output, ready: ready) }
        // Rounded once to the scores' type, chunk by chunk.
        let bits = try buffers.buffer(.narrowGradient, bytes: scoreCount * gradientType.byteCount)
        let narrowed = try inputs.chunks.images.map { (images) throws(OpenCLError) in
            try [stages.backpropagation.enqueueNarrow(
                gradient: output, bits: bits, type: gradientType, first: images.lowerBound * perImage,
                count: images.count * perImage, on: queue)]
        }
        return GradientOutput(buffer: bits, ready: narrowed)
    }

    /// Reads back the validation status and the loss (waiting for the launch sequence).
    func readOutcome(_ problem: LossProblem) throws(OpenCLError) -> OpenCLOutcome {
        queue.phase = .download
        let status = try buffers.buffer(.status, bytes: 4)
        let firstBad = try queue.read(UInt32.self, count: 1, from: status)[0]
        let segmentCount = problem.plan.segments.count
        var total = 0.0
        if segmentCount > 0 {
            let losses = try buffers.buffer(.segmentLosses, bytes: segmentCount * accumulatorBytes)
            let sums: [Double] = configuration.doubleAccumulation
                ? try queue.read(Double.self, count: segmentCount, from: losses)
                : try queue.read(Float.self, count: segmentCount, from: losses).map(Double.init)
            for (segment, sum) in zip(problem.plan.segments, sums) { total += segment.weight * sum }
        }
        return OpenCLOutcome(loss: total, firstNonFinite: firstBad == UInt32.max ? nil : Int(firstBad))
    }
}

/// What one launch sequence read back.
struct OpenCLOutcome: Sendable {
    var loss: Double
    var firstNonFinite: Int?
}
