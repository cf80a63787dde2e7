internal import CLovaszOpenCL

extension OpenCLPipeline {
    /// Checks a caller's buffer range against the pipeline's context and the shape, and wraps it.
    ///
    /// - Parameters:
    ///   - role: `scores`, `labels` or `gradient`, for messages.
    ///   - types: the element types accepted.
    ///   - count: the element count the shape needs.
    ///   - fromElementZero: kernels read it from element 0, so a nonzero offset becomes a
    ///     sub-buffer (whose origin must be aligned to `CL_DEVICE_MEM_BASE_ADDR_ALIGN`).
    ///   - written: kernels write it (a read-only buffer is refused).
    /// - Returns: the buffer (the caller's, retained, or a sub-buffer of it) and the element
    ///   offset kernels must add (0 for a sub-buffer).
    /// - Throws: ``LovaszError/invalidShape(_:)`` for a wrong count or a buffer too small,
    ///   ``LovaszError/invalidOption(_:)`` for a wrong element type, ``LovaszError/openCL(_:)``
    ///   for a null or invalid handle, another context, a misaligned offset or a read-only output.
    func adopt(
        _ range: OpenCLDeviceBuffer, role: String, types: [DeviceElementType], count: Int, fromElementZero: Bool,
        written: Bool
    ) throws(LovaszError) -> (buffer: CLBuffer, elementOffset: Int) {
        func refuse(_ status: Int32, _ detail: String) -> LovaszError {
            .openCL(OpenCLError(status: status, call: "lovasz (\(role) buffer)", detail: detail))
        }
        guard let memory = range.memory else { throw refuse(CL_INVALID_MEM_OBJECT, "the \(role) buffer is NULL") }
        guard types.contains(range.elementType) else {
            let allowed = types.map(\.rawValue).joined(separator: ", ")
            throw .invalidOption("the \(role) buffer holds \(range.elementType.rawValue) elements; expected \(allowed)")
        }
        guard range.count == count else {
            throw .invalidShape("the \(role) buffer describes \(range.count) elements; the shape needs \(count)")
        }
        let size = range.elementType.byteCount
        guard range.byteOffset >= 0, range.byteOffset % size == 0 else {
            throw refuse(CL_INVALID_VALUE, "byte offset \(range.byteOffset) is not a non-negative multiple of \(size)")
        }
        let info = try mappingOpenCLErrors { () throws(OpenCLError) in try CLExternal.memoryInfo(memory, role: role) }
        guard info.isBuffer else { throw refuse(CL_INVALID_MEM_OBJECT, "the \(role) memory object is not a buffer") }
        guard info.context == context.handle else {
            throw refuse(CL_INVALID_CONTEXT, "the \(role) buffer belongs to another OpenCL context than the engine's queue")
        }
        let needed = range.byteOffset + count * size
        guard needed <= info.byteCount else {
            throw .invalidShape(
                "the \(role) buffer holds \(info.byteCount) bytes; \(count) \(range.elementType.rawValue) elements at byte offset \(range.byteOffset) need \(needed)")
        }
        if written && info.flags & cl_mem_flags(CL_MEM_READ_ONLY) != 0 {
            throw refuse(CL_INVALID_MEM_OBJECT, "the \(role) buffer is read-only (CL_MEM_READ_ONLY); kernels write it")
        }
        let whole = try mappingOpenCLErrors { () throws(OpenCLError) in
            try CLBuffer(memory: memory, context: context, byteCount: info.byteCount, retain: true)
        }
        guard fromElementZero && range.byteOffset > 0 else { return (whole, range.byteOffset / size) }
        let alignment = try mappingOpenCLErrors { () throws(OpenCLError) in try CLExternal.baseAddressAlignment(of: context) }
        guard range.byteOffset % alignment == 0 else {
            throw refuse(
                CL_MISALIGNED_SUB_BUFFER_OFFSET,
                "byte offset \(range.byteOffset) is not a multiple of \(alignment) (CL_DEVICE_MEM_BASE_ADDR_ALIGN of the device), which the \(role) sub-buffer needs")
        }
        let region = try mappingOpenCLErrors { () throws(OpenCLError) in
            try CLBuffer.region(of: whole, origin: range.byteOffset, byteCount: max(count * size, 1))
        }
        return (region, 0)
    }
}

/// Device buffers holding copies of host inputs (benchmarks and tests of the zero-copy path).
final class DeviceCopies {
    let scoreBuffer: CLBuffer
    let labelBuffer: CLBuffer
    let gradientBuffer: CLBuffer
    let labelType: DeviceElementType

    var scores: OpaquePointer { scoreBuffer.handle }
    var labels: OpaquePointer { labelBuffer.handle }
    var gradient: OpaquePointer { gradientBuffer.handle }

    init(scores: CLBuffer, labels: CLBuffer, gradient: CLBuffer, labelType: DeviceElementType) {
        self.scoreBuffer = scores
        self.labelBuffer = labels
        self.gradientBuffer = gradient
        self.labelType = labelType
    }
}

extension OpenCLBackend {
    /// Copies `scores` and `labels` into new buffers of the backend's context (labels as
    /// uint8, int32 or int64; other types widened to int64) with room for a gradient.
    ///
    /// - Throws: ``LovaszError/openCL(_:)`` when an allocation or copy fails.
    func deviceCopies<Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Label>
    ) throws(LovaszError) -> DeviceCopies {
        let made: Result<DeviceCopies, OpenCLError> = withPipelineResult { (pipeline) throws(OpenCLError) -> DeviceCopies in
            let scoreBuffer = try CLBuffer(context: pipeline.context, byteCount: max(scores.count * 4, 4))
            try scoreBuffer.write(from: UnsafeRawBufferPointer(scores), on: pipeline.queue.queue)
            let uploaded = try pipeline.uploadLabels(labels)
            let labelBuffer = try CLBuffer(context: pipeline.context, byteCount: uploaded.buffer.byteCount)
            try labelBuffer.copy(from: uploaded.buffer, byteCount: labels.count * uploaded.type.byteCount, on: pipeline.queue.queue)
            try pipeline.queue.queue.finish()
            let gradient = try CLBuffer(context: pipeline.context, byteCount: max(scores.count * 4, 4))
            let type: DeviceElementType = uploaded.type == .uint8 ? .uint8 : uploaded.type == .int32 ? .int32 : .int64
            return DeviceCopies(scores: scoreBuffer, labels: labelBuffer, gradient: gradient, labelType: type)
        }
        switch made {
        case .success(let copies): return copies
        case .failure(let error): throw .openCL(error)
        }
    }
}
