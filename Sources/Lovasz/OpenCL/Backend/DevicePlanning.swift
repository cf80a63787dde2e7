/// The inputs of one launch sequence, all on the device (or on their way there).
struct LaunchInputs {
    let shape: ProblemShape
    let options: LossOptions
    let plan: SegmentPlan
    let scores: DeviceScores
    /// One class index (or -1) per pixel.
    let classOf: CLBuffer
    /// The valid pixels of every group, in order; `nil` when no pixel is ignored.
    let validPixels: CLBuffer?
}

/// The scores on the device: float32 from element 0, or 16-bit ones widened there first.
struct DeviceScores {
    /// Float32 scores from element 0: the caller's (a sub-buffer at an offset), or the
    /// pipeline's buffer that receives the widened ``narrow`` scores or the uploaded ones.
    let float32: CLBuffer
    /// 16-bit scores from element 0 and their type, widened into ``float32`` chunk by chunk.
    let narrow: (buffer: CLBuffer, type: ScoreType)?
    /// The images of each transfer chunk (one chunk for scores already on the device).
    let chunks: ImageChunks
    /// For each chunk, the commands its scores wait for (its upload; none on the device).
    let ready: [[CLEvent]]

    /// Scores already on the device, in one chunk.
    static func resident(
        float32: CLBuffer, narrow: (buffer: CLBuffer, type: ScoreType)?, shape: ProblemShape
    ) -> DeviceScores {
        let chunks = ImageChunks(batch: shape.batch, bytesPerImage: 0, chunkBytes: nil)
        return DeviceScores(float32: float32, narrow: narrow, chunks: chunks, ready: chunks.images.map { _ in [] })
    }
}

/// Where a launch sequence leaves `∂loss/∂scores`.
enum GradientDestination {
    /// Not computed (the loss alone).
    case none
    /// Read back into host memory, float32 or rounded once to a 16-bit type.
    case host(GradientBuffer)
    /// Written into a device buffer (from element 0) of this type (float32, or rounded once
    /// to a 16-bit type) and left there.
    case device(CLBuffer, ScoreType)
}

/// Labels in a device buffer: the buffer, the first element and the element type.
struct DeviceLabels {
    let buffer: CLBuffer
    let elementOffset: Int
    let type: LabelElementType
}

/// How the planning kernels cut the pixels: groups of whole images, each in parts.
struct PlanLayout {
    let groups: Int
    let groupPixels: Int
    let parts: Int
    let partPixels: Int
    let labelClasses: Int
    /// Whether each part is one work-group's (`plan_labels_grouped_*`: groups of at least one
    /// work-group's part, at most ``KernelLayout/planBins`` classes) or one work-item's.
    let groupedParts: Bool
    /// Copies of the local class histogram of a grouped part (1...8, within the bins).
    let histogramCopies: Int

    /// - Parameter localSize: work-items per work-group (``KernelConfiguration/localSize``).
    init(shape: ProblemShape, options: LossOptions, localSize: Int) {
        let groupImages = options.perImage ? 1 : shape.batch
        groups = shape.batch / groupImages
        groupPixels = groupImages * shape.spatial
        labelClasses = shape.isSoftmax ? shape.channels : 2
        let groupedPart = KernelLayout.planItems * localSize
        groupedParts = labelClasses <= KernelLayout.planBins && groupPixels >= groupedPart
        histogramCopies = max(1, min(8, KernelLayout.planBins / max(labelClasses, 1)))
        if groupedParts {
            partPixels = groupedPart
            parts = (groupPixels + groupedPart - 1) / groupedPart
        } else {
            // At most one count row per 16 pixels, and parts of at least 256 pixels.
            let wanted = max(256, 16 * labelClasses)
            parts = max(1, (groupPixels + wanted - 1) / wanted)
            partPixels = (groupPixels + parts - 1) / parts
        }
    }

    var partCount: Int { groups * parts }
}

/// What the planning read-back found.
enum LabelCounts {
    /// `groupCounts[g * labelClasses + c]` and whether any pixel is ignored.
    case counts(groupCounts: [UInt32], hasIgnored: Bool)
    /// The flat pixel index of the first label out of range.
    case badLabel(Int)
}

extension OpenCLPipeline {
    /// Enqueues the validation and mapping of the labels on the device and the class counts of
    /// every group (and sends them to the device), without waiting: the host may stage the
    /// scores meanwhile. ``readLabelCounts(_:layout:)`` brings the counts back.
    ///
    /// Leaves the class of every pixel in the pipeline's `classOf` buffer and the per-part
    /// counts in `partCounts` for ``listValidPixels(layout:plan:)``.
    ///
    /// - Parameter ignore: the ignore index when a label of the caller's type can equal it.
    /// - Returns: the buffer of the status word and the counts.
    func enqueueLabelCounts(_ labels: DeviceLabels, layout: PlanLayout, ignore: Int?) throws(OpenCLError) -> CLBuffer {
        queue.phase = .plan
        let pixelCount = layout.groups * layout.groupPixels
        let classOf = try buffers.buffer(.classOf, bytes: pixelCount * 4)
        let partCounts = try buffers.buffer(.partCounts, bytes: layout.partCount * layout.labelClasses * 4)
        // result[0]: the first bad label (UInt32.max: none); result[1...]: the group counts.
        let result = try buffers.buffer(.groupCounts, bytes: (1 + layout.groups * layout.labelClasses) * 4)
        try queue.fill(result, with: UInt32.max, count: 1)
        try stages.planning.enqueueLabels(
            labels, layout: layout, ignore: ignore, classOf: classOf, partCounts: partCounts, status: result, on: queue)
        try stages.planning.enqueueGroupCounts(partCounts: partCounts, result: result, layout: layout, on: queue)
        try queue.queue.flush()
        return result
    }

    /// Reads back what ``enqueueLabelCounts(_:layout:ignore:)`` computes: the call's one
    /// planning read-back (`1 + groups · classes` integers: the first bad label, then the
    /// counts).
    func readLabelCounts(_ result: CLBuffer, layout: PlanLayout) throws(OpenCLError) -> LabelCounts {
        queue.phase = .plan
        let read = try queue.read(UInt32.self, count: 1 + layout.groups * layout.labelClasses, from: result)
        if read[0] != UInt32.max { return .badLabel(Int(read[0])) }
        let groupCounts = Array(read.dropFirst())
        trace.mark("labels planned, counts read back")
        let valid = groupCounts.reduce(0) { $0 + Int($1) }
        return .counts(groupCounts: groupCounts, hasIgnored: valid < layout.groups * layout.groupPixels)
    }

    /// Enqueues the list of valid pixels of every group (after ``readLabelCounts(_:layout:)``),
    /// or returns `nil` when no pixel is ignored.
    func listValidPixels(layout: PlanLayout, plan: SegmentPlan) throws(OpenCLError) -> CLBuffer? {
        guard plan.hasIgnored, let offsets = plan.validOffsets else { return nil }
        let total = Int(offsets.last ?? 0)
        guard total > 0 else { return nil }
        queue.phase = .plan
        let classOf = try buffers.buffer(.classOf, bytes: layout.groups * layout.groupPixels * 4)
        let partCounts = try buffers.buffer(.partCounts, bytes: layout.partCount * layout.labelClasses * 4)
        let partOffsets = try buffers.buffer(.partOffsets, bytes: layout.parts > 1 ? layout.partCount * 4 : 4)
        if layout.parts > 1 {
            try stages.planning.enqueuePartOffsets(partCounts: partCounts, offsets: partOffsets, layout: layout, on: queue)
        }
        let groupOffsets = try buffers.buffer(.groupOffsets, bytes: layout.groups * 4)
        try queue.write(Array(offsets.dropLast()), to: groupOffsets)
        let list = try buffers.buffer(.validPixels, bytes: total * 4)
        try stages.planning.enqueueValidPixels(
            classOf: classOf, partOffsets: partOffsets, groupOffsets: groupOffsets, list: list, layout: layout, on: queue)
        return list
    }

    /// Copies `bytes` bytes at `offset` of `buffer` through a small scratch buffer and reads
    /// them (works on buffers the host may not access: `CL_MEM_HOST_NO_ACCESS`).
    func probe(_ buffer: CLBuffer, byteOffset offset: Int, bytes: Int) throws(OpenCLError) -> [UInt8] {
        let scratch = try buffers.buffer(.probe, bytes: 16)
        queue.record(try scratch.copy(from: buffer, sourceByteOffset: offset, toByteOffset: 0, byteCount: bytes, on: queue.queue))
        return try queue.read(UInt8.self, count: bytes, from: scratch)
    }
}

extension OpenCLPipeline {
    /// Enqueues the upload of host labels as they are (uint8, int32, int64); other integer
    /// types are widened to int64 first. The caller's memory must stay valid until the call's
    /// first read-back.
    func uploadLabels<Label: FixedWidthInteger>(_ labels: UnsafeBufferPointer<Label>) throws(OpenCLError) -> DeviceLabels {
        let type: LabelElementType = Label.self == UInt8.self ? .uint8 : Label.self == Int32.self ? .int32 : .int64
        let direct = Label.self == UInt8.self || Label.self == Int32.self || Label.self == Int64.self
            || (Label.self == Int.self && MemoryLayout<Int>.size == 8)
        queue.phase = .upload
        let buffer = try buffers.buffer(.labels, bytes: labels.count * type.byteCount)
        if direct {
            // Straight from the caller's memory: the pinned staging buffer holds the scores.
            queue.record(try buffer.write(from: UnsafeRawBufferPointer(labels), on: queue.queue, blocking: false))
        } else {
            let widened = labels.map { Int64(truncatingIfNeeded: $0) }
            try queue.write(widened, to: buffer)
        }
        return DeviceLabels(buffer: buffer, elementOffset: 0, type: type)
    }
}
