/// The segmented bitonic sort of packed keys: the kernels of `Kernels/bitonic_sort.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class BitonicSortStage {
    private let sortLocal: CLKernel
    private let mergeGlobal: CLKernel
    private let mergeGlobalX8: CLKernel
    private let mergeLocal: CLKernel
    private let configuration: KernelConfiguration

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        sortLocal = try program.makeKernel("bitonic_sort_local")
        mergeGlobal = try program.makeKernel("bitonic_merge_global")
        mergeGlobalX8 = try program.makeKernel("bitonic_merge_global_x8")
        mergeLocal = try program.makeKernel("bitonic_merge_local")
        self.configuration = configuration
    }

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [sortLocal, mergeLocal] }

    /// Sorts `total` keys (a multiple of ``KernelConfiguration/localKeys``) in segments of
    /// `padded` keys (a power of two); every segment ends ascending.
    func enqueueSort(keys: CLBuffer, total: Int, padded: Int, on queue: PipelineQueue) throws(OpenCLError) {
        let localKeys = configuration.localKeys
        try enqueueSortLocal(keys: keys, padded: padded, groups: total / localKeys, on: queue)
        var stage = 2 * localKeys
        while stage <= padded {
            var stride = stage / 2
            // Three global strides per pass while three remain, then one at a time.
            while stride / 4 >= localKeys {
                try enqueueMergeGlobalX8(keys: keys, stage: stage, quarter: stride / 4, padded: padded, total: total, on: queue)
                stride /= 8
            }
            while stride >= localKeys {
                try enqueueMergeGlobal(keys: keys, stage: stage, stride: stride, padded: padded, total: total, on: queue)
                stride /= 2
            }
            try enqueueMergeLocal(keys: keys, stage: stage, padded: padded, groups: total / localKeys, on: queue)
            stage *= 2
        }
    }

    /// `bitonic_sort_local(keys, padded)`: the stages up to `LOCAL_KEYS` in `groups` blocks.
    private func enqueueSortLocal(keys: CLBuffer, padded: Int, groups: Int, on queue: PipelineQueue) throws(OpenCLError) {
        try sortLocal.setArguments(.buffer(keys), .count(padded))
        let localSize = configuration.localSize
        try queue.launch(sortLocal, globalSize: [groups * localSize], localSize: [localSize])
    }

    /// `bitonic_merge_global(keys, k, j, padded)`: one merge step at a stride ≥ `LOCAL_KEYS`.
    private func enqueueMergeGlobal(
        keys: CLBuffer, stage: Int, stride: Int, padded: Int, total: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try mergeGlobal.setArguments(.buffer(keys), .count(stage), .count(stride), .count(padded))
        try queue.launch(mergeGlobal, globalSize: [total / 2])
    }

    /// `bitonic_merge_global_x8(keys, k, quarter, padded)`: the strides 4q, 2q, q in one pass.
    private func enqueueMergeGlobalX8(
        keys: CLBuffer, stage: Int, quarter: Int, padded: Int, total: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try mergeGlobalX8.setArguments(.buffer(keys), .count(stage), .count(quarter), .count(padded))
        try queue.launch(mergeGlobalX8, globalSize: [total / 8])
    }

    /// `bitonic_merge_local(keys, k, padded)`: the strides below `LOCAL_KEYS` of stage `k`.
    private func enqueueMergeLocal(keys: CLBuffer, stage: Int, padded: Int, groups: Int, on queue: PipelineQueue) throws(OpenCLError) {
        try mergeLocal.setArguments(.buffer(keys), .count(stage), .count(padded))
        let localSize = configuration.localSize
        try queue.launch(mergeLocal, globalSize: [groups * localSize], localSize: [localSize])
    }
}
