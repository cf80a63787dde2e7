/// Planning on the device: the kernels of `Kernels/lovasz_plan.cl` (labels validated and
/// mapped to classes, class counts per group, the valid-pixel list).
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class PlanningStage {
    /// One work-item per part (``PlanLayout/groupedParts`` false).
    private let labelKernels: [LabelElementType: CLKernel]
    /// One work-group per part (``PlanLayout/groupedParts`` true).
    private let groupedLabelKernels: [LabelElementType: CLKernel]
    private let groupCounts: CLKernel
    private let partOffsets: CLKernel
    private let validPixels: CLKernel
    private let groupedValidPixels: CLKernel
    private let configuration: KernelConfiguration

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [partOffsets, groupedValidPixels] + Array(groupedLabelKernels.values) }

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        labelKernels = [
            .uint8: try program.makeKernel("plan_labels_uint8"),
            .int32: try program.makeKernel("plan_labels_int32"),
            .int64: try program.makeKernel("plan_labels_int64"),
        ]
        groupedLabelKernels = [
            .uint8: try program.makeKernel("plan_labels_grouped_uint8"),
            .int32: try program.makeKernel("plan_labels_grouped_int32"),
            .int64: try program.makeKernel("plan_labels_grouped_int64"),
        ]
        groupCounts = try program.makeKernel("plan_group_counts")
        partOffsets = try program.makeKernel("plan_part_offsets")
        validPixels = try program.makeKernel("plan_valid_pixels")
        groupedValidPixels = try program.makeKernel("plan_valid_pixels_grouped")
        self.configuration = configuration
    }

    /// `plan_labels_*` or `plan_labels_grouped_*`: `classOf` for every pixel, the counts of
    /// every part of `layout` into `partCounts`, and in `status[0]` (which must start at
    /// `UInt32.max`) the first bad label.
    ///
    /// - Parameter ignore: the ignore index, when a label of the type can equal it.
    func enqueueLabels(
        _ labels: DeviceLabels, layout: PlanLayout, ignore: Int?, classOf: CLBuffer, partCounts: CLBuffer,
        status: CLBuffer, on queue: PipelineQueue
    ) throws(OpenCLError) {
        let head: [KernelArgument] = [
            .buffer(labels.buffer), .ulong(UInt64(labels.elementOffset)), .count(layout.groups), .count(layout.groupPixels),
            .count(layout.parts), .count(layout.partPixels), .count(layout.labelClasses),
        ]
        let tail: [KernelArgument] = [
            .flag(ignore != nil), .long(Int64(ignore ?? 0)), .buffer(classOf), .buffer(partCounts), .buffer(status),
        ]
        if layout.groupedParts {
            let kernel = groupedLabelKernels[labels.type]!
            try kernel.setArguments(head + [.count(layout.histogramCopies)] + tail)
            let localSize = configuration.localSize
            try queue.launch(kernel, globalSize: [layout.partCount * localSize], localSize: [localSize])
        } else {
            let kernel = labelKernels[labels.type]!
            try kernel.setArguments(head + tail)
            try queue.launch(kernel, globalSize: [layout.partCount])
        }
    }

    /// `plan_group_counts`: the class counts of every group, summed over its parts, into
    /// `result[1...]` (`result[0]` is the labels kernel's status word).
    func enqueueGroupCounts(
        partCounts: CLBuffer, result: CLBuffer, layout: PlanLayout, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try groupCounts.setArguments(
            .buffer(partCounts), .buffer(result), .count(layout.groups), .count(layout.parts), .count(layout.labelClasses))
        try queue.launch(groupCounts, globalSize: [layout.groups * layout.labelClasses])
    }

    /// `plan_part_offsets`: the valid pixels of each group before each of its parts (one
    /// work-group per group; only when a group has several parts).
    func enqueuePartOffsets(
        partCounts: CLBuffer, offsets: CLBuffer, layout: PlanLayout, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try partOffsets.setArguments(.buffer(partCounts), .buffer(offsets), .count(layout.parts), .count(layout.labelClasses))
        let localSize = configuration.localSize
        try queue.launch(partOffsets, globalSize: [layout.groups * localSize], localSize: [localSize])
    }

    /// `plan_valid_pixels` or `plan_valid_pixels_grouped`: the flat index of every valid
    /// pixel, group after group.
    func enqueueValidPixels(
        classOf: CLBuffer, partOffsets: CLBuffer, groupOffsets: CLBuffer, list: CLBuffer, layout: PlanLayout,
        on queue: PipelineQueue
    ) throws(OpenCLError) {
        let kernel = layout.groupedParts ? groupedValidPixels : validPixels
        try kernel.setArguments(
            .buffer(classOf), .buffer(partOffsets), .buffer(groupOffsets), .buffer(list), .count(layout.groups),
            .count(layout.groupPixels), .count(layout.parts), .count(layout.partPixels))
        if layout.groupedParts {
            let localSize = configuration.localSize
            try queue.launch(kernel, globalSize: [layout.partCount * localSize], localSize: [localSize])
        } else {
            try queue.launch(kernel, globalSize: [layout.partCount])
        }
    }
}
