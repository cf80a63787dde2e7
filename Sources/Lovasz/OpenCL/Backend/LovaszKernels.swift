/// The kernels of the Lovász pipeline, created once from one built program.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class LovaszKernelSet {
    let program: CLProgram
    let findNonFinite: CLKernel
    let softmaxProbabilities: CLKernel
    let sigmoidProbabilities: CLKernel
    let segmentBounds: CLKernel
    let segmentCuts: CLKernel
    let countKept: CLKernel
    let compactKeys: CLKernel
    let bitonicSortLocal: CLKernel
    let bitonicMergeGlobal: CLKernel
    let bitonicMergeGlobalX8: CLKernel
    let bitonicMergeLocal: CLKernel
    let scanForeground: CLKernel
    let exclusiveScanPerSegment: CLKernel
    let lovaszGradient: CLKernel
    let reduceSegmentLosses: CLKernel
    let backpropSoftmax: CLKernel
    let backpropSigmoid: CLKernel
    let planLabelsUInt8: CLKernel
    let planLabelsInt32: CLKernel
    let planLabelsInt64: CLKernel
    let planGroupCounts: CLKernel
    let planPartOffsets: CLKernel
    let planValidPixels: CLKernel

    init(program: CLProgram) throws(OpenCLError) {
        self.program = program
        findNonFinite = try program.makeKernel("find_nonfinite")
        softmaxProbabilities = try program.makeKernel("softmax_probabilities")
        sigmoidProbabilities = try program.makeKernel("sigmoid_probabilities")
        segmentBounds = try program.makeKernel("segment_bounds")
        segmentCuts = try program.makeKernel("segment_cuts")
        countKept = try program.makeKernel("count_kept")
        compactKeys = try program.makeKernel("compact_keys")
        bitonicSortLocal = try program.makeKernel("bitonic_sort_local")
        bitonicMergeGlobal = try program.makeKernel("bitonic_merge_global")
        bitonicMergeGlobalX8 = try program.makeKernel("bitonic_merge_global_x8")
        bitonicMergeLocal = try program.makeKernel("bitonic_merge_local")
        scanForeground = try program.makeKernel("scan_foreground")
        exclusiveScanPerSegment = try program.makeKernel("exclusive_scan_per_segment")
        lovaszGradient = try program.makeKernel("lovasz_gradient")
        reduceSegmentLosses = try program.makeKernel("reduce_segment_losses")
        backpropSoftmax = try program.makeKernel("backprop_softmax")
        backpropSigmoid = try program.makeKernel("backprop_sigmoid")
        planLabelsUInt8 = try program.makeKernel("plan_labels_uint8")
        planLabelsInt32 = try program.makeKernel("plan_labels_int32")
        planLabelsInt64 = try program.makeKernel("plan_labels_int64")
        planGroupCounts = try program.makeKernel("plan_group_counts")
        planPartOffsets = try program.makeKernel("plan_part_offsets")
        planValidPixels = try program.makeKernel("plan_valid_pixels")
    }

    /// The kernels that run with a fixed work-group size of `localSize`.
    var groupedKernels: [CLKernel] {
        [bitonicSortLocal, bitonicMergeLocal, scanForeground, exclusiveScanPerSegment, reduceSegmentLosses,
         segmentBounds, segmentCuts, countKept, compactKeys, planPartOffsets]
    }
}

extension CLKernel {
    /// Sets every argument in order: buffers, and scalars as `UInt32`.
    func setArguments(_ arguments: [KernelArgument]) throws(OpenCLError) {
        for (index, argument) in arguments.enumerated() {
            switch argument {
            case .buffer(let buffer): try setArgument(index, buffer: buffer)
            case .uint(let value): try setArgument(index, value: value)
            case .ulong(let value): try setArgument(index, value: value)
            case .long(let value): try setArgument(index, value: value)
            }
        }
    }
}

/// One kernel argument.
enum KernelArgument {
    case buffer(CLBuffer)
    case uint(UInt32)
    case ulong(UInt64)
    case long(Int64)

    /// A `uint` argument from an `Int` known to fit.
    static func count(_ value: Int) -> KernelArgument { .uint(UInt32(truncatingIfNeeded: value)) }
}
