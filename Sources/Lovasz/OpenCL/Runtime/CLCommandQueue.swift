internal import CLovaszOpenCL

/// An in-order OpenCL command queue; released when the last reference goes.
///
/// Not thread-safe: enqueue from one thread at a time (the OpenCL backend serializes its calls).
final class CLCommandQueue {
    /// The context the queue belongs to (kept alive by the queue).
    let context: CLContext
    let handle: cl_command_queue
    /// Whether events from this queue carry profiling times.
    let profiling: Bool

    /// Creates an in-order queue on the context's device.
    ///
    /// - Parameter profiling: record queued/start/end times in every event (``CLEvent/elapsedNanoseconds``).
    /// - Throws: ``OpenCLError`` from `clCreateCommandQueue`.
    init(context: CLContext, profiling: Bool = false) throws(OpenCLError) {
        var status: cl_int = CL_SUCCESS
        let properties = profiling ? cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE) : 0
        let queue = lovasz_clCreateCommandQueue(context.handle, context.deviceID, properties, &status)
        guard status == CL_SUCCESS, let queue else {
            throw OpenCLError(clStatus: status == CL_SUCCESS ? CL_INVALID_COMMAND_QUEUE : status, call: "clCreateCommandQueue")
        }
        self.context = context
        self.handle = queue
        self.profiling = profiling
    }

    /// Wraps a caller's in-order queue on `context`, retaining it (`clRetainCommandQueue`);
    /// released in `deinit`.
    ///
    /// - Throws: ``OpenCLError`` from `clRetainCommandQueue`.
    init(retaining handle: cl_command_queue, context: CLContext, profiling: Bool) throws(OpenCLError) {
        try checkCL(lovasz_clRetainCommandQueue(handle), "clRetainCommandQueue")
        self.context = context
        self.handle = handle
        self.profiling = profiling
    }

    deinit { _ = lovasz_clReleaseCommandQueue(handle) }

    /// Makes every later command wait for `events` (a barrier with a wait list; nothing
    /// for none).
    ///
    /// - Parameter events: `cl_event` handles of the queue's context.
    /// - Throws: ``OpenCLError`` from `clEnqueueBarrierWithWaitList` (`CL_INVALID_EVENT_WAIT_LIST`).
    func waitFor(events: [cl_event]) throws(OpenCLError) {
        guard !events.isEmpty else { return }
        let list: [cl_event?] = events
        try checkCL(lovasz_clEnqueueBarrierWithWaitList(handle, cl_uint(list.count), list, nil), "clEnqueueBarrierWithWaitList")
    }

    /// A marker that completes once every command enqueued so far has completed.
    ///
    /// - Throws: ``OpenCLError`` from `clEnqueueMarkerWithWaitList`.
    func marker() throws(OpenCLError) -> CLEvent {
        var event: cl_event?
        let status = lovasz_clEnqueueMarkerWithWaitList(handle, 0, nil, &event)
        return try CLEvent(status: status, event: event, call: "clEnqueueMarkerWithWaitList")
    }

    /// Waits until every command enqueued so far has completed.
    ///
    /// - Throws: ``OpenCLError`` from `clFinish` (for example when a kernel ran out of resources).
    func finish() throws(OpenCLError) {
        try checkCL(lovasz_clFinish(handle), "clFinish")
    }

    /// Submits every command enqueued so far to the device without waiting (so that another
    /// queue's commands waiting for them can proceed).
    ///
    /// - Throws: ``OpenCLError`` from `clFlush`.
    func flush() throws(OpenCLError) {
        try checkCL(lovasz_clFlush(handle), "clFlush")
    }

    /// Enqueues `kernel` over an ND-range, with the arguments set on it now.
    ///
    /// - Parameters:
    ///   - kernel: a kernel of a program in this queue's context, all arguments set.
    ///   - globalSize: work-items per dimension, 1 to 3 dimensions, each ≥ 1.
    ///   - localSize: work-group size per dimension (same count as `globalSize`, each
    ///     dividing the global size, product at most the kernel's ``CLKernel/maxWorkGroupSize``),
    ///     or `nil` to let the implementation choose.
    ///   - events: commands (of any queue of the context) that must complete first.
    /// - Returns: the launch's event (discardable).
    /// - Throws: ``OpenCLError`` from `clEnqueueNDRangeKernel`; `CL_INVALID_WORK_DIMENSION`,
    ///   `CL_INVALID_GLOBAL_WORK_SIZE` or `CL_INVALID_WORK_GROUP_SIZE` for sizes that do not fit
    ///   the rules above, before calling OpenCL.
    @discardableResult
    func enqueue(
        _ kernel: CLKernel, globalSize: [Int], localSize: [Int]? = nil, waitingFor events: [CLEvent] = []
    ) throws(OpenCLError) -> CLEvent {
        let call = "clEnqueueNDRangeKernel(\(kernel.name))"
        guard (1...3).contains(globalSize.count) else {
            throw OpenCLError(
                status: CL_INVALID_WORK_DIMENSION, call: call,
                detail: "\(globalSize.count) dimensions; 1 to 3 are supported")
        }
        guard globalSize.allSatisfy({ $0 >= 1 }) else {
            throw OpenCLError(
                status: CL_INVALID_GLOBAL_WORK_SIZE, call: call, detail: "global size \(globalSize) has an empty dimension")
        }
        if let localSize {
            guard localSize.count == globalSize.count,
                  zip(globalSize, localSize).allSatisfy({ $1 >= 1 && $0 % $1 == 0 })
            else {
                throw OpenCLError(
                    status: CL_INVALID_WORK_GROUP_SIZE, call: call,
                    detail: "local size \(localSize) does not divide global size \(globalSize)")
            }
        }
        var event: cl_event?
        let status = CLEvent.withWaitList(events) { count, waitList in
            globalSize.withUnsafeBufferPointer { global in
                if let localSize {
                    return localSize.withUnsafeBufferPointer { local in
                        lovasz_clEnqueueNDRangeKernel(
                            handle, kernel.handle, cl_uint(global.count), nil, global.baseAddress, local.baseAddress,
                            count, waitList, &event)
                    }
                }
                return lovasz_clEnqueueNDRangeKernel(
                    handle, kernel.handle, cl_uint(global.count), nil, global.baseAddress, nil, count, waitList, &event)
            }
        }
        return try CLEvent(status: status, event: event, call: call)
    }
}
