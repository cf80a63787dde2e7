/// Planning on the device: the kernels of `Kernels/lovasz_plan.cl` (labels validated and
/// mapped to classes, class counts per group, the valid-pixel list).
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class PlanningStage {
    private let labelKernels: [LabelElementType: CLKernel]
    private let groupCounts: CLKernel
    private let partOffsets: CLKernel
    private let validPixels: CLKernel
    private let configuration: KernelConfiguration

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [partOffsets] }

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        labelKernels = [
            .uint8: try program.makeKernel("plan_labels_uint8"),
            .int32: try program.makeKernel("plan_labels_int32"),
            .int64: try program.makeKernel("plan_labels_int64"),
        ]
        groupCounts = try program.makeKernel("plan_group_counts")
        partOffsets = try program.makeKernel("plan_part_offsets")
        validPixels = try program.makeKernel("plan_valid_pixels")
        self.configuration = configuration
    }

    /// `plan_labels_*`: `classOf` for every pixel, the counts of every part of `layout` into
    /// `partCounts`, and in `status[0]` (which must start at `UInt32.max`) the first bad label.
    ///
    /// - Parameter ignore: the ignore index, when a label of the type can equal it.
    func enqueueLabels(
        _ labels: DeviceLabels, layout: PlanLayout, ignore: Int?, classOf: CLBuffer, partCounts: CLBuffer,
        status: CLBuffer, on queue: PipelineQueue
    ) throws(OpenCLError) {
        let kernel = labelKernels[labels.type]!
        try kernel.setArguments(
            .buffer(labels.buffer), .ulong(UInt64(labels.elementOffset)), .count(layout.groups), .count(layout.groupPixels),
            .count(layout.parts), .count(layout.partPixels), .count(layout.labelClasses), .flag(ignore != nil),
            .long(Int64(ignore ?? 0)), .buffer(classOf), .buffer(partCounts), .buffer(status))
        try queue.launch(kernel, globalSize: [layout.partCount])
    }

    /// `plan_group_counts`: the class counts of every group, summed over its parts.
    func enqueueGroupCounts(
        partCounts: CLBuffer, groupCounts counts: CLBuffer, layout: PlanLayout, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try groupCounts.setArguments(
            .buffer(partCounts), .buffer(counts), .count(layout.groups), .count(layout.parts), .count(layout.labelClasses))
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

    /// `plan_valid_pixels`: the flat index of every valid pixel, group after group.
    func enqueueValidPixels(
        classOf: CLBuffer, partOffsets: CLBuffer, groupOffsets: CLBuffer, list: CLBuffer, layout: PlanLayout,
        on queue: PipelineQueue
    ) throws(OpenCLError) {
        try validPixels.setArguments(
            .buffer(classOf), .buffer(partOffsets), .buffer(groupOffsets), .buffer(list), .count(layout.groups),
            .count(layout.groupPixels), .count(layout.parts), .count(layout.partPixels))
        try queue.launch(validPixels, globalSize: [layout.partCount])
    }
}
