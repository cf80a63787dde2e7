internal import CLovaszOpenCL

/// The event of one enqueued command; released when the last reference goes.
///
/// Not thread-safe: use from one thread at a time.
final class CLEvent {
    let handle: cl_event

    /// Wraps the event an enqueue call returned, or throws its failure.
    init(status: cl_int, event: cl_event?, call: @autoclosure () -> String) throws(OpenCLError) {
        try checkCL(status, call())
        guard let event else { throw OpenCLError(status: CL_INVALID_EVENT, call: call(), detail: "no event returned") }
        self.handle = event
    }

    /// The handle with one more reference, for a caller who releases it (`clRetainEvent`).
    ///
    /// - Throws: ``OpenCLError`` from `clRetainEvent`.
    func retainedHandle() throws(OpenCLError) -> cl_event {
        try checkCL(lovasz_clRetainEvent(handle), "clRetainEvent")
        return handle
    }

    deinit { _ = lovasz_clReleaseEvent(handle) }

    /// Waits until the command has completed.
    ///
    /// - Throws: ``OpenCLError`` from `clWaitForEvents`; `CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST`
    ///   when the command failed.
    func wait() throws(OpenCLError) {
        try Self.wait(for: [self])
    }

    /// Waits until every one of `events` has completed (nothing to do for none).
    ///
    /// - Throws: ``OpenCLError`` from `clWaitForEvents`.
    static func wait(for events: [CLEvent]) throws(OpenCLError) {
        guard !events.isEmpty else { return }
        let handles: [cl_event?] = events.map(\.handle)
        try checkCL(lovasz_clWaitForEvents(cl_uint(handles.count), handles), "clWaitForEvents")
    }

    /// Calls `body` with the count and the handles of `events` as an OpenCL wait list (a null
    /// list for none, as OpenCL requires).
    static func withWaitList<R>(_ events: [CLEvent], _ body: (cl_uint, UnsafePointer<cl_event?>?) -> R) -> R {
        guard !events.isEmpty else { return body(0, nil) }
        let handles: [cl_event?] = events.map(\.handle)
        return handles.withUnsafeBufferPointer { body(cl_uint($0.count), $0.baseAddress) }
    }

    /// Device time from the start to the end of the command, in nanoseconds.
    ///
    /// Only for events of a queue created with `profiling: true`, once the command completed.
    /// - Throws: ``OpenCLError`` from `clGetEventProfilingInfo`
    ///   (`CL_PROFILING_INFO_NOT_AVAILABLE` without profiling or before completion).
    var elapsedNanoseconds: UInt64 {
        get throws(OpenCLError) {
            let start = try profilingTime(.started)
            let end = try profilingTime(.ended)
            return end >= start ? end - start : 0
        }
    }

    /// A moment in the life of a command, as profiling records it.
    enum ProfilingPoint {
        /// Enqueued on the host (`CL_PROFILING_COMMAND_QUEUED`).
        case queued
        /// Submitted to the device (`CL_PROFILING_COMMAND_SUBMIT`).
        case submitted
        /// Started on the device (`CL_PROFILING_COMMAND_START`).
        case started
        /// Finished on the device (`CL_PROFILING_COMMAND_END`).
        case ended
    }

    /// The device clock, in nanoseconds, at `point` of the command.
    ///
    /// - Throws: as ``elapsedNanoseconds``.
    func profilingTime(_ point: ProfilingPoint) throws(OpenCLError) -> UInt64 {
        let (parameter, name): (Int32, String) =
            switch point {
            case .queued: (CL_PROFILING_COMMAND_QUEUED, "CL_PROFILING_COMMAND_QUEUED")
            case .submitted: (CL_PROFILING_COMMAND_SUBMIT, "CL_PROFILING_COMMAND_SUBMIT")
            case .started: (CL_PROFILING_COMMAND_START, "CL_PROFILING_COMMAND_START")
            case .ended: (CL_PROFILING_COMMAND_END, "CL_PROFILING_COMMAND_END")
            }
        return try queryInfoValue(cl_ulong.self, "clGetEventProfilingInfo(\(name))") {
            lovasz_clGetEventProfilingInfo(handle, cl_profiling_info(parameter), $0, $1, $2)
        }
    }
}
