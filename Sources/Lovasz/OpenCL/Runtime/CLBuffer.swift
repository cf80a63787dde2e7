internal import CLovaszOpenCL

/// A device buffer of a fixed number of bytes; released when the last reference goes.
///
/// Not thread-safe: enqueue transfers from one thread at a time. Transfers go through a
/// ``CLCommandQueue`` of the same context and run in that queue's order.
final class CLBuffer {
    /// How kernels may access a buffer.
    enum Access {
        /// Kernels read and write it (`CL_MEM_READ_WRITE`).
        case readWrite
        /// Kernels only read it (`CL_MEM_READ_ONLY`).
        case readOnly
        /// Kernels only write it (`CL_MEM_WRITE_ONLY`).
        case writeOnly

        var flags: cl_mem_flags {
            switch self {
            case .readWrite: cl_mem_flags(CL_MEM_READ_WRITE)
            case .readOnly: cl_mem_flags(CL_MEM_READ_ONLY)
            case .writeOnly: cl_mem_flags(CL_MEM_WRITE_ONLY)
            }
        }
    }

    /// The context the buffer belongs to (kept alive by the buffer).
    let context: CLContext
    let handle: cl_mem
    /// The size in bytes.
    let byteCount: Int

    /// Allocates an uninitialized buffer.
    ///
    /// - Parameters:
    ///   - byteCount: 1 to the device's ``OpenCLDevice/maxAllocationBytes``.
    ///   - access: how kernels use it (default read-write).
    /// - Throws: ``OpenCLError`` from `clCreateBuffer` (`CL_INVALID_BUFFER_SIZE` for 0 or too
    ///   many bytes, checked before calling OpenCL; `CL_MEM_OBJECT_ALLOCATION_FAILURE`).
    ///   - hostAccess: `false` creates it with `CL_MEM_HOST_NO_ACCESS`: only the device reads
    ///     and writes it (tests use it to prove that no transfer touches a buffer).
    init(
        context: CLContext, byteCount: Int, access: Access = .readWrite, allocateHostPointer: Bool = false,
        hostAccess: Bool = true
    ) throws(OpenCLError) {
        let limit = context.device.maxAllocationBytes
        guard byteCount >= 1, limit == 0 || UInt64(byteCount) <= limit else {
            throw OpenCLError(
                status: CL_INVALID_BUFFER_SIZE, call: "clCreateBuffer",
                detail: "\(byteCount) bytes; the device allocates 1 to \(limit) bytes in one buffer")
        }
        var status: cl_int = CL_SUCCESS
        let flags = access.flags | (allocateHostPointer ? cl_mem_flags(CL_MEM_ALLOC_HOST_PTR) : 0)
            | (hostAccess ? 0 : cl_mem_flags(CL_MEM_HOST_NO_ACCESS))
        let memory = lovasz_clCreateBuffer(context.handle, flags, byteCount, nil, &status)
        guard status == CL_SUCCESS, let memory else {
            throw OpenCLError(
                clStatus: status == CL_SUCCESS ? CL_MEM_OBJECT_ALLOCATION_FAILURE : status, call: "clCreateBuffer",
                detail: "\(byteCount) bytes")
        }
        self.context = context
        self.handle = memory
        self.byteCount = byteCount
    }

    /// Wraps a memory object: a caller's buffer (`retain: true`, retained now) or one this
    /// library created (`retain: false`, a sub-buffer); released in `deinit` either way.
    ///
    /// - Parameter byteCount: the bytes kernels may touch (at most the object's size).
    /// - Throws: ``OpenCLError`` from `clRetainMemObject`.
    init(memory: cl_mem, context: CLContext, byteCount: Int, retain: Bool) throws(OpenCLError) {
        if retain { try checkCL(lovasz_clRetainMemObject(memory), "clRetainMemObject") }
        self.context = context
        self.handle = memory
        self.byteCount = byteCount
    }

    /// A sub-buffer of `parent` over `byteCount` bytes from `origin`, for kernels that read
    /// from element 0.
    ///
    /// - Parameter origin: a multiple of the device's `CL_DEVICE_MEM_BASE_ADDR_ALIGN` (in bytes).
    /// - Throws: ``OpenCLError`` from `clCreateSubBuffer` (`CL_MISALIGNED_SUB_BUFFER_OFFSET`).
    static func region(of parent: CLBuffer, origin: Int, byteCount: Int) throws(OpenCLError) -> CLBuffer {
        var region = cl_buffer_region(origin: origin, size: byteCount)
        var status: cl_int = CL_SUCCESS
        let memory = lovasz_clCreateSubBuffer(
            parent.handle, 0, cl_buffer_create_type(CL_BUFFER_CREATE_TYPE_REGION), &region, &status)
        guard status == CL_SUCCESS, let memory else {
            throw OpenCLError(
                clStatus: status == CL_SUCCESS ? CL_INVALID_MEM_OBJECT : status, call: "clCreateSubBuffer",
                detail: "\(byteCount) bytes at offset \(origin)")
        }
        return try CLBuffer(memory: memory, context: parent.context, byteCount: byteCount, retain: false)
    }

    deinit { _ = lovasz_clReleaseMemObject(handle) }

    /// Copies host memory into the buffer.
    ///
    /// - Parameters:
    ///   - source: at least one byte; `offset + source.count ≤ byteCount`.
    ///   - offset: the first byte of the buffer written.
    ///   - queue: a queue of the same context.
    ///   - blocking: `true` (default) returns once `source` has been read and may be reused.
    ///     With `false` the copy is only enqueued: `source` must stay valid and unchanged until
    ///     the returned event completes (or the queue is finished).
    ///   - events: commands (of any queue of the context) that must complete first.
    /// - Returns: the transfer's event (discardable).
    /// - Throws: ``OpenCLError`` from `clEnqueueWriteBuffer`; `CL_INVALID_VALUE` for an empty or
    ///   out-of-range transfer, before calling OpenCL.
    @discardableResult
    func write(
        from source: UnsafeRawBufferPointer, atByteOffset offset: Int = 0,
        on queue: CLCommandQueue, blocking: Bool = true, waitingFor events: [CLEvent] = []
    ) throws(OpenCLError) -> CLEvent {
        try transfer("clEnqueueWriteBuffer", offset: offset, count: source.count, waitingFor: events) {
            lovasz_clEnqueueWriteBuffer(
                queue.handle, handle, cl_bool(blocking ? CL_TRUE : CL_FALSE), offset, source.count, source.baseAddress,
                $0, $1, $2)
        }
    }

    /// Copies `values` into the buffer at `offset` bytes and waits until the copy is done.
    ///
    /// - Returns: the transfer's event (discardable; complete).
    /// - Throws: as ``write(from:atByteOffset:on:blocking:)``.
    @discardableResult
    func write<T: BitwiseCopyable>(_ values: [T], atByteOffset offset: Int = 0, on queue: CLCommandQueue) throws(OpenCLError) -> CLEvent {
        let result: Result<CLEvent, OpenCLError> = values.withUnsafeBytes { bytes in
            do throws(OpenCLError) {
                return .success(try write(from: bytes, atByteOffset: offset, on: queue, blocking: true))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Copies bytes of the buffer into host memory.
    ///
    /// - Parameters:
    ///   - destination: at least one byte; `offset + destination.count ≤ byteCount`.
    ///   - offset: the first byte of the buffer read.
    ///   - queue: a queue of the same context; the read runs after the commands before it.
    ///   - blocking: `true` (default) returns with `destination` filled. With `false` the copy
    ///     is only enqueued: `destination` must stay valid, and must not be read, until the
    ///     returned event completes (or the queue is finished).
    ///   - events: commands (of any queue of the context) that must complete first.
    /// - Returns: the transfer's event (discardable).
    /// - Throws: ``OpenCLError`` from `clEnqueueReadBuffer` (also errors of earlier commands
    ///   that surface here); `CL_INVALID_VALUE` for an empty or out-of-range transfer.
    @discardableResult
    func read(
        into destination: UnsafeMutableRawBufferPointer, fromByteOffset offset: Int = 0,
        on queue: CLCommandQueue, blocking: Bool = true, waitingFor events: [CLEvent] = []
    ) throws(OpenCLError) -> CLEvent {
        try transfer("clEnqueueReadBuffer", offset: offset, count: destination.count, waitingFor: events) {
            lovasz_clEnqueueReadBuffer(
                queue.handle, handle, cl_bool(blocking ? CL_TRUE : CL_FALSE), offset, destination.count,
                destination.baseAddress, $0, $1, $2)
        }
    }

    /// Checks the range, then runs `enqueue` with the wait list of `events` and the place for
    /// the new event, and wraps that event.
    private func transfer(
        _ call: String, offset: Int, count: Int, waitingFor events: [CLEvent],
        _ enqueue: (cl_uint, UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>) -> cl_int
    ) throws(OpenCLError) -> CLEvent {
        try checkRange(offset: offset, count: count, call: call)
        var event: cl_event?
        let status = CLEvent.withWaitList(events) { waitCount, waitList in enqueue(waitCount, waitList, &event) }
        return try CLEvent(status: status, event: event, call: call)
    }

    /// Reads `count` values of type `T` starting at `offset` bytes, waiting for them.
    ///
    /// - Throws: as ``read(into:fromByteOffset:on:blocking:)``.
    func read<T: BitwiseCopyable>(
        _ type: T.Type, count: Int, fromByteOffset offset: Int = 0, on queue: CLCommandQueue
    ) throws(OpenCLError) -> [T] {
        // The range is checked before any array is made: an empty one through the initializer
        // below would store into the runtime's shared empty storage.
        let bytes = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        try checkRange(offset: offset, count: bytes.overflow ? .max : bytes.partialValue, call: "clEnqueueReadBuffer")
        var failure: OpenCLError?
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(OpenCLError) {
                try read(into: UnsafeMutableRawBufferPointer(buffer), fromByteOffset: offset, on: queue, blocking: true)
                initialized = count
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return values
    }

    /// Sets every copy of `pattern` in `offset ..< offset + byteCount` (default: the whole buffer).
    ///
    /// - Parameters:
    ///   - pattern: 1, 2, 4, 8, 16, 32, 64 or 128 bytes (for example `Float(0)` or `UInt32.max`).
    ///   - offset, byteCount: multiples of the pattern's size, inside the buffer.
    /// - Returns: the fill's event (discardable); the fill is only enqueued.
    /// - Throws: ``OpenCLError`` from `clEnqueueFillBuffer`; `CL_INVALID_VALUE` for a pattern size
    ///   or range that breaks the rules above, before calling OpenCL.
    @discardableResult
    func fill<T: BitwiseCopyable>(
        with pattern: T, atByteOffset offset: Int = 0, byteCount count: Int? = nil, on queue: CLCommandQueue
    ) throws(OpenCLError) -> CLEvent {
        let size = MemoryLayout<T>.size
        let count = count ?? (byteCount - offset)
        guard size >= 1, size <= 128, size & (size - 1) == 0, offset % size == 0, count % size == 0 else {
            throw OpenCLError(
                status: CL_INVALID_VALUE, call: "clEnqueueFillBuffer",
                detail: "a \(size)-byte pattern over \(count) bytes at offset \(offset); the pattern must be a power of two up to 128 bytes dividing both")
        }
        try checkRange(offset: offset, count: count, call: "clEnqueueFillBuffer")
        var event: cl_event?
        let status = withUnsafeBytes(of: pattern) { bytes in
            lovasz_clEnqueueFillBuffer(queue.handle, handle, bytes.baseAddress, size, offset, count, 0, nil, &event)
        }
        return try CLEvent(status: status, event: event, call: "clEnqueueFillBuffer")
    }

    /// Copies `byteCount` bytes (default: all of `source` from `sourceOffset`) from `source`
    /// into this buffer, on the device.
    ///
    /// - Parameters:
    ///   - source: a buffer of the same context; if it is this buffer, the two ranges must not overlap.
    ///   - sourceOffset, destinationOffset, byteCount: ranges inside each buffer, at least one byte.
    /// - Returns: the copy's event (discardable); the copy is only enqueued.
    /// - Throws: ``OpenCLError`` from `clEnqueueCopyBuffer` (`CL_MEM_COPY_OVERLAP`); `CL_INVALID_VALUE`
    ///   for an empty or out-of-range copy, before calling OpenCL.
    @discardableResult
    func copy(
        from source: CLBuffer, sourceByteOffset sourceOffset: Int = 0, toByteOffset destinationOffset: Int = 0,
        byteCount count: Int? = nil, on queue: CLCommandQueue
    ) throws(OpenCLError) -> CLEvent {
        let count = count ?? (source.byteCount - sourceOffset)
        try source.checkRange(offset: sourceOffset, count: count, call: "clEnqueueCopyBuffer")
        try checkRange(offset: destinationOffset, count: count, call: "clEnqueueCopyBuffer")
        var event: cl_event?
        let status = lovasz_clEnqueueCopyBuffer(
            queue.handle, source.handle, handle, sourceOffset, destinationOffset, count, 0, nil, &event)
        return try CLEvent(status: status, event: event, call: "clEnqueueCopyBuffer")
    }

    /// Throws unless `offset ..< offset + count` is a non-empty range inside the buffer.
    private func checkRange(offset: Int, count: Int, call: String) throws(OpenCLError) {
        guard count >= 1, offset >= 0, offset <= byteCount - count else {
            throw OpenCLError(
                status: CL_INVALID_VALUE, call: call,
                detail: "\(count) bytes at offset \(offset) of a \(byteCount)-byte buffer")
        }
    }
}
