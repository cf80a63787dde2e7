internal import CLovaszOpenCL

/// Queries on OpenCL objects a caller hands in (its command queue, buffers and events), and
/// the wrappers that retain them.
///
/// Handles come from any ICD loader (pyopencl's bundled one, the system's): the loader only
/// dispatches through the object's vendor table, so this library's loader can use them.
/// A null handle or one of the wrong kind is reported as an ``OpenCLError``; a dangling
/// pointer cannot be detected by OpenCL and is the caller's responsibility.
enum CLExternal {
    /// The context, device and in-order properties of a caller's queue, retained.
    ///
    /// - Throws: ``OpenCLError`` `CL_INVALID_COMMAND_QUEUE` for a null handle or a handle that is
    ///   not a queue, `CL_INVALID_QUEUE_PROPERTIES` for an out-of-order queue, and errors of the
    ///   info queries.
    static func adoptQueue(_ handle: OpaquePointer?) throws(OpenCLError) -> CLCommandQueue {
        guard let queue = handle else {
            throw OpenCLError(status: CL_INVALID_COMMAND_QUEUE, call: "clGetCommandQueueInfo", detail: "the command queue is NULL")
        }
        try OpenCLLibrary.load()
        let contextHandle = try queueInfo(cl_context?.self, queue, CL_QUEUE_CONTEXT, "CL_QUEUE_CONTEXT")
        let deviceHandle = try queueInfo(cl_device_id?.self, queue, CL_QUEUE_DEVICE, "CL_QUEUE_DEVICE")
        let properties = try queueInfo(cl_command_queue_properties.self, queue, CL_QUEUE_PROPERTIES, "CL_QUEUE_PROPERTIES")
        guard let contextHandle, let deviceHandle else {
            throw OpenCLError(status: CL_INVALID_COMMAND_QUEUE, call: "clGetCommandQueueInfo", detail: "the queue has no context or device")
        }
        if properties & cl_command_queue_properties(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0 {
            throw OpenCLError(
                status: CL_INVALID_QUEUE_PROPERTIES, call: "lovasz (command queue)",
                detail: "the queue executes out of order; the loss needs an in-order queue")
        }
        let device = try describe(deviceHandle)
        let context = try CLContext(retaining: contextHandle, device: device, deviceID: deviceHandle)
        let profiling = properties & cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE) != 0
        return try CLCommandQueue(retaining: queue, context: context, profiling: profiling)
    }

    /// The description of a device handle: discovery's entry when this library's loader lists
    /// it (same index as `lovasz devices`), otherwise a fresh description with index -1.
    static func describe(_ device: cl_device_id) throws(OpenCLError) -> OpenCLDevice {
        if let known = OpenCLDiscovery.system.devices.first(where: { $0.handle?.device == device }) { return known }
        let platform = try queryInfoValue(cl_platform_id?.self, "clGetDeviceInfo(CL_DEVICE_PLATFORM)") {
            lovasz_clGetDeviceInfo(device, cl_device_info(CL_DEVICE_PLATFORM), $0, $1, $2)
        }
        guard let platform else {
            throw OpenCLError(status: CL_INVALID_DEVICE, call: "clGetDeviceInfo(CL_DEVICE_PLATFORM)", detail: "no platform")
        }
        let name = (try? queryInfoString("clGetPlatformInfo(CL_PLATFORM_NAME)") {
            lovasz_clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2)
        }) ?? ""
        return try OpenCLDiscovery.describeDevice(
            CLDeviceHandle(device: device, platform: platform), index: -1, platformIndex: -1,
            platformName: name, platformVersion: "")
    }

    /// `CL_DEVICE_MEM_BASE_ADDR_ALIGN` in bytes: the alignment of a sub-buffer's origin.
    static func baseAddressAlignment(of context: CLContext) throws(OpenCLError) -> Int {
        let bits = try queryInfoValue(cl_uint.self, "clGetDeviceInfo(CL_DEVICE_MEM_BASE_ADDR_ALIGN)") {
            lovasz_clGetDeviceInfo(context.deviceID, cl_device_info(CL_DEVICE_MEM_BASE_ADDR_ALIGN), $0, $1, $2)
        }
        return max(1, Int(bits) / 8)
    }

    /// What this library needs to know of a caller's buffer.
    struct MemoryInfo {
        let context: cl_context?
        let byteCount: Int
        let flags: cl_mem_flags
        let isBuffer: Bool
    }

    /// The context, size, flags and type of a caller's memory object.
    ///
    /// - Throws: ``OpenCLError`` `CL_INVALID_MEM_OBJECT` for a null handle or a handle that is
    ///   not a memory object.
    static func memoryInfo(_ memory: cl_mem, role: String) throws(OpenCLError) -> MemoryInfo {
        func info<T: BitwiseCopyable>(_ type: T.Type, _ parameter: Int32, _ name: String) throws(OpenCLError) -> T {
            do {
                return try queryInfoValue(T.self, "clGetMemObjectInfo(\(name))") {
                    lovasz_clGetMemObjectInfo(memory, cl_mem_info(parameter), $0, $1, $2)
                }
            } catch {
                var described = error
                described.detail = "the \(role) buffer is not a valid memory object"
                throw described
            }
        }
        let type = try info(cl_mem_object_type.self, CL_MEM_TYPE, "CL_MEM_TYPE")
        return MemoryInfo(
            context: try info(cl_context?.self, CL_MEM_CONTEXT, "CL_MEM_CONTEXT"),
            byteCount: try info(Int.self, CL_MEM_SIZE, "CL_MEM_SIZE"),
            flags: try info(cl_mem_flags.self, CL_MEM_FLAGS, "CL_MEM_FLAGS"),
            isBuffer: type == cl_mem_object_type(CL_MEM_OBJECT_BUFFER))
    }

    private static func queueInfo<T: BitwiseCopyable>(
        _ type: T.Type, _ queue: cl_command_queue, _ parameter: Int32, _ name: String
    ) throws(OpenCLError) -> T {
        do {
            return try queryInfoValue(T.self, "clGetCommandQueueInfo(\(name))") {
                lovasz_clGetCommandQueueInfo(queue, cl_command_queue_info(parameter), $0, $1, $2)
            }
        } catch {
            var described = error
            described.detail = "the handle is not a valid command queue"
            throw described
        }
    }
}
