/// The mutable state of an OpenCL backend (queue, kernels, buffers) and one call's launch
/// sequence. Not thread-safe: owned by ``OpenCLBackend``'s lock.
// @unchecked Sendable: every access happens inside OpenCLBackend's Mutex, one thread at a time.
final class OpenCLSession: @unchecked Sendable {
    let context: CLContext
    let queue: CLCommandQueue
    let kernels: LovaszKernelSet
    let configuration: KernelConfiguration
    let buffers: DeviceBuffers
    /// At most this many keys per chunk, when set.
    let chunkKeyLimit: Int?
    /// Pinned host memory for the scores and the gradient on a discrete device (nil on a
    /// device that shares the host's memory, where staging would only add a copy).
    private var uploadStaging: CLPinnedStaging?
    private var downloadStaging: CLPinnedStaging?
    private let stagesTransfers: Bool
    private let trace = OpenCLTrace()

    init(
        queue: CLCommandQueue, kernels: LovaszKernelSet, configuration: KernelConfiguration, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool
    ) throws(OpenCLError) {
        self.chunkKeyLimit = chunkKeyLimit
        self.stagesTransfers = stagedTransfers
        self.context = queue.context
        self.queue = queue
        self.kernels = kernels
        self.configuration = configuration
        self.buffers = DeviceBuffers(context: context)
    }

    private var accumulatorBytes: Int { configuration.doubleAccumulation ? 8 : 4 }

    /// Runs the launch sequence on inputs already on the device and reads back the loss.
    ///
    /// Validation of the scores, probabilities, per chunk of segments the keys, the sort, the
    /// scan, the Lovász gradient and the loss sums, then the back-propagation into the
    /// gradient's destination; the status and the segment sums are the only read-back (and
    /// the gradient, when its destination is host memory).
    func launch(_ inputs: LaunchInputs, gradient destination: GradientDestination) throws(OpenCLError) -> OpenCLOutcome {
        let shape = inputs.shape
        let loss = inputs.options.loss
        let logits = inputs.options.scoresAre == .logits
        let scoreCount = shape.scoreCount
        let pixelCount = shape.pixelCount
        let plan = inputs.plan
        let table = SegmentTable(plan: plan, shape: shape)
        let segmentCount = plan.segments.count
        let scores = inputs.scores

        let placeholder = try buffers.buffer(.placeholder, bytes: 16)
        let validPixels = inputs.validPixels ?? placeholder
        let segments = try buffers.buffer(.segments, bytes: table.entries.count * 4)
        let weights = try buffers.buffer(.weights, bytes: table.weights.count * 4)
        if segmentCount > 0 {
            try segments.write(table.entries, on: queue)
            try weights.write(table.weights, on: queue)
        }
        let status = try buffers.buffer(.status, bytes: 4)
        try status.fill(with: UInt32.max, byteCount: 4, on: queue)

        // Validation and probabilities.
        try kernels.findNonFinite.setArguments([.buffer(scores), .count(scoreCount), .buffer(status)])
        try queue.enqueue(kernels.findNonFinite, globalSize: [scoreCount])
        var values = scores
        if loss != .hinge && logits {
            values = try buffers.buffer(.probabilities, bytes: scoreCount * 4)
            if loss == .softmax {
                try kernels.softmaxProbabilities.setArguments([
                    .buffer(scores), .buffer(values), .count(shape.batch), .count(shape.channels), .count(shape.spatial),
                ])
                try queue.enqueue(kernels.softmaxProbabilities, globalSize: [pixelCount])
            } else {
                try kernels.sigmoidProbabilities.setArguments([.buffer(scores), .buffer(values), .count(scoreCount)])
                try queue.enqueue(kernels.sigmoidProbabilities, globalSize: [scoreCount])
            }
        }

        // ∂loss/∂(probability or hinge logit), class-major [C][B·S], zero where not written.
        var gradientBuffer: CLBuffer?
        var upstream = placeholder
        switch destination {
        case .none: break
        case .host: gradientBuffer = try buffers.buffer(.gradient, bytes: scoreCount * 4)
        case .device(let buffer): gradientBuffer = buffer
        }
        if let output = gradientBuffer {
            let direct = loss == .hinge || (loss == .sigmoid && !logits)
            upstream = direct ? output : try buffers.buffer(.upstream, bytes: scoreCount * 4)
            try upstream.fill(with: Float(0), byteCount: scoreCount * 4, on: queue)
        }

        let segmentLosses = try buffers.buffer(.segmentLosses, bytes: max(segmentCount, 1) * accumulatorBytes)
        if segmentCount > 0 {
            try runSegments(
                shape: shape, loss: loss, segmentCount: segmentCount, table: table, values: values, classOf: inputs.classOf,
                validPixels: validPixels, segments: segments, weights: weights, upstream: upstream,
                writeGradient: gradientBuffer != nil, losses: segmentLosses)
        }

        if let output = gradientBuffer {
            switch (loss, logits) {
            case (.softmax, _):
                try kernels.backpropSoftmax.setArguments([
                    .buffer(logits ? values : scores), .buffer(upstream), .buffer(output),
                    .count(shape.batch), .count(shape.channels), .count(shape.spatial), .uint(logits ? 1 : 0),
                ])
                try queue.enqueue(kernels.backpropSoftmax, globalSize: [pixelCount])
            case (.sigmoid, true):
                try kernels.backpropSigmoid.setArguments([.buffer(values), .buffer(upstream), .buffer(output), .count(scoreCount)])
                try queue.enqueue(kernels.backpropSigmoid, globalSize: [scoreCount])
            case (.hinge, _), (.sigmoid, false):
                break
            }
            if case .host(let gradient) = destination {
                try download(output, into: gradient)
            }
        }

        trace.mark("launch sequence and gradient read back")
        // The one read back of results: validation status and the segment loss sums.
        let firstBad = try status.read(UInt32.self, count: 1, on: queue)[0]
        var total = 0.0
        if segmentCount > 0 {
            let sums: [Double] = configuration.doubleAccumulation
                ? try segmentLosses.read(Double.self, count: segmentCount, on: queue)
                : try segmentLosses.read(Float.self, count: segmentCount, on: queue).map(Double.init)
            for (segment, sum) in zip(plan.segments, sums) { total += segment.weight * sum }
        }
        trace.mark("status and losses read back")
        return OpenCLOutcome(loss: total, firstNonFinite: firstBad == UInt32.max ? nil : Int(firstBad))
    }

    /// Uploads host scores into the session's scores buffer (through pinned memory on a
    /// discrete device); the copy is only enqueued, so `values` must stay valid until the
    /// call's read-back.
    func uploadScores(_ values: UnsafeBufferPointer<Float>) throws(OpenCLError) -> CLBuffer {
        let scores = try buffers.buffer(.scores, bytes: values.count * 4)
        trace.start()
        if !values.isEmpty { try upload(values, to: scores) }
        return scores
    }

    /// Enqueues the transfer of `values` to `buffer`; through pinned memory on a discrete device.
    private func upload(_ values: UnsafeBufferPointer<Float>, to buffer: CLBuffer) throws(OpenCLError) {
        let bytes = values.count * 4
        guard stagesTransfers else {
            try buffer.write(from: UnsafeRawBufferPointer(values), on: queue, blocking: false)
            return
        }
        if (uploadStaging?.byteCount ?? 0) < bytes {
            uploadStaging = nil
            uploadStaging = try CLPinnedStaging(context: context, queue: queue, byteCount: bytes)
        }
        let staging = uploadStaging!
        Self.parallelCopy(from: UnsafeRawPointer(values.baseAddress!), to: staging.pointer, bytes: bytes)
        try buffer.write(from: UnsafeRawBufferPointer(start: staging.pointer, count: bytes), on: queue, blocking: false)
    }

    /// Reads `buffer` into `gradient` (blocking); through pinned memory on a discrete device.
    private func download(_ buffer: CLBuffer, into gradient: UnsafeMutableBufferPointer<Float>) throws(OpenCLError) {
        let bytes = gradient.count * 4
        guard stagesTransfers else {
            try buffer.read(into: UnsafeMutableRawBufferPointer(gradient), on: queue, blocking: true)
            return
        }
        if (downloadStaging?.byteCount ?? 0) < bytes {
            downloadStaging = nil
            downloadStaging = try CLPinnedStaging(context: context, queue: queue, byteCount: bytes)
        }
        let staging = downloadStaging!
        try buffer.read(into: UnsafeMutableRawBufferPointer(start: staging.pointer, count: bytes), on: queue, blocking: true)
        Self.parallelCopy(from: UnsafeRawPointer(staging.pointer), to: UnsafeMutableRawPointer(gradient.baseAddress!), bytes: bytes)
    }

    /// `memcpy` split over the host's processors (one thread copies well below memory speed).
    private static func parallelCopy(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, bytes: Int) {
        parallelChunks(count: bytes, chunk: 1 << 22, workers: CPUBackend.onlineProcessors) { range in
            (destination + range.lowerBound).copyMemory(from: source + range.lowerBound, byteCount: range.count)
        }
    }

    /// Keys, sort, scan, gradient and loss sums for every segment, in chunks that fit the device.
    ///
    /// First the cut of every segment (its last foreground key) and the number of keys up to
    /// it are found on the device; those counts are read back (a few bytes: they set the size
    /// of the sort), then only the kept keys are compacted, sorted and walked.
    private func runSegments(
        shape: ProblemShape, loss: LovaszLoss, segmentCount: Int, table: SegmentTable, values: CLBuffer,
        classOf: CLBuffer, validPixels: CLBuffer, segments: CLBuffer, weights: CLBuffer, upstream: CLBuffer,
        writeGradient: Bool, losses: CLBuffer
    ) throws(OpenCLError) {
        let localSize = configuration.localSize
        let hinge: UInt32 = loss == .hinge ? 1 : 0
        let common: [KernelArgument] = [.buffer(values), .buffer(classOf), .buffer(validPixels), .buffer(segments)]
        let shapeArguments: [KernelArgument] = [.count(shape.channels), .count(shape.spatial), .uint(hinge)]

        // The cut and the kept count of every segment.
        let blocks = (table.largestGroup + configuration.boundBlock - 1) / configuration.boundBlock
        let partials = try buffers.buffer(.boundPartials, bytes: 16 * segmentCount * blocks)
        let cuts = try buffers.buffer(.cuts, bytes: 8 * segmentCount)
        let blockCounts = try buffers.buffer(.blockCounts, bytes: 4 * segmentCount * blocks)
        let blockOffsets = try buffers.buffer(.blockOffsets, bytes: 4 * segmentCount * blocks)
        let kept = try buffers.buffer(.kept, bytes: 4 * segmentCount)
        let perBlock = [blocks * localSize, segmentCount], groupShape = [localSize, 1]
        try kernels.segmentBounds.setArguments(common + [.buffer(partials)] + shapeArguments + [.count(blocks)])
        try queue.enqueue(kernels.segmentBounds, globalSize: perBlock, localSize: groupShape)
        try kernels.segmentCuts.setArguments([.buffer(partials), .buffer(segments), .buffer(cuts), .count(blocks)])
        try queue.enqueue(kernels.segmentCuts, globalSize: [segmentCount * localSize], localSize: [localSize])
        try kernels.countKept.setArguments(common + [.buffer(cuts), .buffer(blockCounts)] + shapeArguments + [.count(blocks)])
        try queue.enqueue(kernels.countKept, globalSize: perBlock, localSize: groupShape)
        try kernels.exclusiveScanPerSegment.setArguments([.buffer(blockCounts), .buffer(blockOffsets), .buffer(kept), .count(blocks)])
        try queue.enqueue(kernels.exclusiveScanPerSegment, globalSize: [segmentCount * localSize], localSize: [localSize])
        let keptCounts = try kept.read(UInt32.self, count: segmentCount, on: queue)
        trace.mark("cuts and kept counts")

        // The sort of the kept keys, in chunks of segments of `padded` keys.
        let padded = KernelConfiguration.powerOfTwo(atMost: 2 * Int(keptCounts.max() ?? 1) - 1)
        let tile = configuration.scanTile
        let alignment = max(configuration.localKeys, tile)
        let perChunk = try segmentsPerChunk(padded: padded, alignment: alignment, total: segmentCount)
        let capacity = Self.roundUp(perChunk * padded, to: alignment)
        let keys = try buffers.buffer(.keys, bytes: capacity * 8)
        let counts = try buffers.buffer(.counts, bytes: capacity * 4)
        let tileTotals = try buffers.buffer(.tileTotals, bytes: capacity / tile * 4)
        let tileCarries = try buffers.buffer(.tileCarries, bytes: capacity / tile * 4)
        let terms = try buffers.buffer(.terms, bytes: capacity * accumulatorBytes)

        var base = 0
        while base < segmentCount {
            let count = min(perChunk, segmentCount - base)
            let used = count * padded
            let total = Self.roundUp(used, to: alignment)
            try keys.fill(with: UInt64.max, byteCount: total * 8, on: queue)
            try kernels.compactKeys.setArguments(
                common + [.buffer(cuts), .buffer(blockOffsets), .buffer(keys)] + shapeArguments
                    + [.count(blocks), .count(padded), .count(base)])
            try queue.enqueue(kernels.compactKeys, globalSize: [blocks * localSize, count], localSize: groupShape)
            try sort(keys: keys, total: total, padded: padded)
            try scanForeground(keys: keys, counts: counts, tileTotals: tileTotals, tileCarries: tileCarries, total: total, padded: padded)
            try kernels.lovaszGradient.setArguments([
                .buffer(keys), .buffer(counts), .buffer(tileCarries), .buffer(segments), .buffer(validPixels),
                .buffer(weights), .buffer(kept), .buffer(terms), .buffer(upstream), .count(padded.trailingZeroBitCount),
                .count(shape.pixelCount), .uint(hinge), .uint(writeGradient ? 1 : 0), .count(base),
            ])
            try queue.enqueue(kernels.lovaszGradient, globalSize: [used])
            try kernels.reduceSegmentLosses.setArguments([.buffer(terms), .buffer(losses), .count(padded), .count(base)])
            try queue.enqueue(kernels.reduceSegmentLosses, globalSize: [count * localSize], localSize: [localSize])
            base += count
        }
    }

    /// The segmented inclusive scan of the foreground bits of `total` sorted keys in segments
    /// of `padded`: after it, `counts[i]` plus, when `padded` exceeds a scan tile,
    /// `tileCarries[i / tile]` is the number of foreground keys at or before `i` in its segment.
    func scanForeground(
        keys: CLBuffer, counts: CLBuffer, tileTotals: CLBuffer, tileCarries: CLBuffer, total: Int, padded: Int
    ) throws(OpenCLError) {
        let localSize = configuration.localSize
        let tile = configuration.scanTile
        try kernels.scanForeground.setArguments([.buffer(keys), .buffer(counts), .buffer(tileTotals), .count(padded)])
        try queue.enqueue(kernels.scanForeground, globalSize: [total / tile * localSize], localSize: [localSize])
        if padded > tile {
            let segments = total / padded
            let sums = try buffers.buffer(.segmentForegroundTotals, bytes: segments * 4)
            try kernels.exclusiveScanPerSegment.setArguments([.buffer(tileTotals), .buffer(tileCarries), .buffer(sums), .count(padded / tile)])
            try queue.enqueue(kernels.exclusiveScanPerSegment, globalSize: [segments * localSize], localSize: [localSize])
        }
    }

    /// The segmented bitonic sort of `total` keys (a multiple of the local block) in segments
    /// of `padded` (a power of two); every segment ends ascending.
    func sort(keys: CLBuffer, total: Int, padded: Int) throws(OpenCLError) {
        let localSize = configuration.localSize
        let localKeys = configuration.localKeys
        let groups = total / localKeys
        try kernels.bitonicSortLocal.setArguments([.buffer(keys), .count(padded)])
        try queue.enqueue(kernels.bitonicSortLocal, globalSize: [groups * localSize], localSize: [localSize])
        var stage = 2 * localKeys
        while stage <= padded {
            var stride = stage / 2
            // Three global strides per pass while three remain, then one at a time.
            while stride / 4 >= localKeys {
                try kernels.bitonicMergeGlobalX8.setArguments([.buffer(keys), .count(stage), .count(stride / 4), .count(padded)])
                try queue.enqueue(kernels.bitonicMergeGlobalX8, globalSize: [total / 8])
                stride /= 8
            }
            while stride >= localKeys {
                try kernels.bitonicMergeGlobal.setArguments([.buffer(keys), .count(stage), .count(stride), .count(padded)])
                try queue.enqueue(kernels.bitonicMergeGlobal, globalSize: [total / 2])
                stride /= 2
            }
            try kernels.bitonicMergeLocal.setArguments([.buffer(keys), .count(stage), .count(padded)])
            try queue.enqueue(kernels.bitonicMergeLocal, globalSize: [groups * localSize], localSize: [localSize])
            stage *= 2
        }
    }

    /// How many segments one chunk sorts: as many as fit the device's largest allocation and
    /// a third of its memory.
    private func segmentsPerChunk(padded: Int, alignment: Int, total: Int) throws(OpenCLError) -> Int {
        let device = context.device
        let bytesPerKey = 8 + 4 + accumulatorBytes
        var budget = min(Int(device.maxAllocationBytes) / 8, Int(device.globalMemoryBytes / 3) / bytesPerKey)
        if let chunkKeyLimit { budget = min(budget, max(chunkKeyLimit, padded)) }
        let fitting = budget / padded
        guard fitting >= 1 else {
            throw OpenCLError(
                status: -4, call: "plan",
                detail: "a segment of \(padded) keys does not fit the device's memory (\(device.maxAllocationBytes) bytes per allocation)")
        }
        return min(fitting, total)
    }

    static func roundUp(_ value: Int, to multiple: Int) -> Int {
        (value + multiple - 1) / multiple * multiple
    }
}
