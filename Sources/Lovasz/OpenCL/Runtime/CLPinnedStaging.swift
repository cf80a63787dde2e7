internal import CLovaszOpenCL

/// Page-locked host memory, mapped once, through which transfers run at the bus's full speed.
///
/// A buffer created with `CL_MEM_ALLOC_HOST_PTR` and kept mapped: copying host data into
/// ``pointer`` and then enqueueing a write *from* it lets the driver transfer by DMA, where a
/// transfer from ordinary pageable memory is staged by the driver at a fraction of the speed.
/// Unmapped and released in `deinit`. Not thread-safe.
final class CLPinnedStaging {
    let buffer: CLBuffer
    let queue: CLCommandQueue
    /// The mapped host memory, `byteCount` bytes.
    let pointer: UnsafeMutableRawPointer
    var byteCount: Int { buffer.byteCount }

    init(context: CLContext, queue: CLCommandQueue, byteCount: Int) throws(OpenCLError) {
        let buffer = try CLBuffer(context: context, byteCount: byteCount, allocateHostPointer: true)
        var status: cl_int = CL_SUCCESS
        let mapped = lovasz_clEnqueueMapBuffer(
            queue.handle, buffer.handle, cl_bool(CL_TRUE), cl_map_flags(CL_MAP_READ | CL_MAP_WRITE),
            0, byteCount, 0, nil, nil, &status)
        guard status == CL_SUCCESS, let mapped else {
            throw OpenCLError(
                clStatus: status == CL_SUCCESS ? CL_MAP_FAILURE : status, call: "clEnqueueMapBuffer",
                detail: "\(byteCount) bytes of pinned host memory")
        }
        self.buffer = buffer
        self.queue = queue
        self.pointer = mapped
    }

    deinit {
        _ = lovasz_clEnqueueUnmapMemObject(queue.handle, buffer.handle, pointer, 0, nil, nil)
        _ = lovasz_clFinish(queue.handle)
    }
}
