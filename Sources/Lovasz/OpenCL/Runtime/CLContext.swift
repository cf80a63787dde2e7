internal import CLovaszOpenCL

/// An OpenCL context on one device; released when the last reference goes.
///
/// Immutable after creation and safe to share between threads: OpenCL calls on a context
/// are thread-safe. Queues, programs and buffers keep their context alive.
// @unchecked Sendable: the handle never changes and OpenCL context calls are thread-safe (OpenCL 1.2 §A.2).
final class CLContext: @unchecked Sendable {
    /// The device the context was created for.
    let device: OpenCLDevice
    let handle: cl_context
    let deviceID: cl_device_id

    /// Creates a context on `device`.
    ///
    /// - Throws: ``OpenCLError`` from `clCreateContext`; `CL_INVALID_DEVICE` for a device
    ///   description that did not come from discovery; the loader's error when the OpenCL
    ///   library is not loaded.
    init(device: OpenCLDevice) throws(OpenCLError) {
        guard let id = device.handle else {
            throw OpenCLError(
                status: CL_INVALID_DEVICE, call: "clCreateContext",
                detail: "the device \(device.name) was not found by OpenCL discovery")
        }
        try OpenCLLibrary.load()
        var status: cl_int = CL_SUCCESS
        var devices: [cl_device_id?] = [id.device]
        let properties: [cl_context_properties] = [
            cl_context_properties(CL_CONTEXT_PLATFORM), cl_context_properties(Int(bitPattern: UnsafeRawPointer(id.platform))), 0,
        ]
        let context = lovasz_clCreateContext(properties, 1, &devices, nil, nil, &status)
        guard status == CL_SUCCESS, let context else {
            throw OpenCLError(clStatus: status == CL_SUCCESS ? CL_INVALID_CONTEXT : status, call: "clCreateContext")
        }
        self.device = device
        self.handle = context
        self.deviceID = id.device
    }

    /// Wraps a caller's context, retaining it (`clRetainContext`); released in `deinit`.
    ///
    /// - Parameters:
    ///   - handle: a valid `cl_context` (the caller keeps its own reference).
    ///   - device: the description of `deviceID`.
    /// - Throws: ``OpenCLError`` from `clRetainContext`.
    init(retaining handle: cl_context, device: OpenCLDevice, deviceID: cl_device_id) throws(OpenCLError) {
        try checkCL(lovasz_clRetainContext(handle), "clRetainContext")
        self.device = device
        self.handle = handle
        self.deviceID = deviceID
    }

    deinit { _ = lovasz_clReleaseContext(handle) }
}
