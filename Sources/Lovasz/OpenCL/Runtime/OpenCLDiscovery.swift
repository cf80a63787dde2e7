internal import CLovaszOpenCL

/// One OpenCL platform (an installed driver) and its devices.
public struct OpenCLPlatform: Sendable, Hashable {
    /// The platform's position in ``OpenCLDiscovery/platforms``.
    public let index: Int
    /// `CL_PLATFORM_NAME`.
    public let name: String
    /// `CL_PLATFORM_VENDOR`.
    public let vendor: String
    /// `CL_PLATFORM_VERSION`.
    public let version: String
    /// Its devices, in `clGetDeviceIDs` order.
    public let devices: [OpenCLDevice]
    /// Why some or all of its devices could not be listed, or `nil`.
    public let problem: String?
}

/// Why discovery found no OpenCL platform at all.
public enum OpenCLDiscoveryFailure: Sendable, Equatable, CustomStringConvertible {
    /// The OpenCL library could not be loaded; the `dlerror` text.
    case libraryNotLoaded(String)
    /// The library loaded but reports no platform: `clGetPlatformIDs` returned this status
    /// (`CL_PLATFORM_NOT_FOUND_KHR`, -1001, from an ICD loader with no vendor driver) or
    /// success with zero platforms (status 0).
    case noPlatform(status: Int32)
    /// Listing the platforms failed otherwise.
    case enumerationFailed(OpenCLError)

    public var description: String {
        switch self {
        case .libraryNotLoaded(let message):
            return "the OpenCL library could not be loaded (\(message))"
        case .noPlatform(let status) where status == CL_PLATFORM_NOT_FOUND_KHR:
            return "no OpenCL platform is installed: clGetPlatformIDs returned CL_PLATFORM_NOT_FOUND_KHR (-1001), "
                + "the ICD loader found no vendor driver (see /etc/OpenCL/vendors or OCL_ICD_VENDORS)"
        case .noPlatform(let status) where status != 0:
            return "no OpenCL platform is installed: clGetPlatformIDs returned \(OpenCLStatus.name(of: status)) (\(status))"
        case .noPlatform:
            return "no OpenCL platform is installed: clGetPlatformIDs found none"
        case .enumerationFailed(let error):
            return "listing the OpenCL platforms failed: \(error)"
        }
    }
}

/// Every OpenCL platform and device this process can see, or why it sees none.
///
/// ``system`` is discovered once per process; ``discover()`` looks again.
public struct OpenCLDiscovery: Sendable, Equatable {
    /// The library that was loaded (`libOpenCL.so.1`, or `$LOVASZ_OPENCL_LIBRARY`), or `nil`.
    public let libraryName: String?
    /// The platforms, in `clGetPlatformIDs` order.
    public let platforms: [OpenCLPlatform]
    /// Why there is no platform, or `nil` when at least one was found.
    public let failure: OpenCLDiscoveryFailure?

    /// Every device of every platform; `devices[i].index == i`.
    public var devices: [OpenCLDevice] { platforms.flatMap(\.devices) }

    init(libraryName: String?, platforms: [OpenCLPlatform], failure: OpenCLDiscoveryFailure?) {
        self.libraryName = libraryName
        self.platforms = platforms
        self.failure = failure
    }

    /// A discovery that found nothing, for the given reason.
    init(failure: OpenCLDiscoveryFailure, libraryName: String? = nil) {
        self.init(libraryName: libraryName, platforms: [], failure: failure)
    }

    /// A discovery holding exactly these devices on one platform (for tests of the selection rule).
    init(devices: [OpenCLDevice], platformName: String = "Test platform") {
        let platform = OpenCLPlatform(
            index: 0, name: platformName, vendor: "", version: "OpenCL 1.2", devices: devices, problem: nil)
        self.init(libraryName: "libOpenCL.so.1", platforms: [platform], failure: nil)
    }

    /// What this process saw the first time it asked (thread-safe, computed once).
    public static let system = discover()

    /// Loads the OpenCL library (if not yet loaded) and lists every platform and device.
    ///
    /// Never throws: a library that does not load, no platform, or a failed query is
    /// recorded in ``failure`` or in a platform's ``OpenCLPlatform/problem``.
    public static func discover() -> OpenCLDiscovery {
        guard OpenCLLibrary.isLoaded else {
            return OpenCLDiscovery(failure: .libraryNotLoaded(OpenCLLibrary.loadError ?? "unknown error"))
        }
        let library = OpenCLLibrary.loadedName
        var count: cl_uint = 0
        let status = lovasz_clGetPlatformIDs(0, nil, &count)
        if status == CL_PLATFORM_NOT_FOUND_KHR || (status == CL_SUCCESS && count == 0) {
            return OpenCLDiscovery(failure: .noPlatform(status: status), libraryName: library)
        }
        guard status == CL_SUCCESS else {
            return OpenCLDiscovery(
                failure: .enumerationFailed(OpenCLError(clStatus: status, call: "clGetPlatformIDs")),
                libraryName: library)
        }
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        let listStatus = lovasz_clGetPlatformIDs(count, &ids, &count)
        guard listStatus == CL_SUCCESS else {
            return OpenCLDiscovery(
                failure: .enumerationFailed(OpenCLError(clStatus: listStatus, call: "clGetPlatformIDs")),
                libraryName: library)
        }
        var platforms: [OpenCLPlatform] = []
        var nextDeviceIndex = 0
        for (platformIndex, id) in ids.prefix(Int(count)).enumerated() {
            guard let id else { continue }
            let platform = describePlatform(id, index: platformIndex, firstDeviceIndex: nextDeviceIndex)
            nextDeviceIndex += platform.devices.count
            platforms.append(platform)
        }
        return OpenCLDiscovery(libraryName: library, platforms: platforms, failure: nil)
    }

    private static func describePlatform(
        _ id: cl_platform_id, index: Int, firstDeviceIndex: Int
    ) -> OpenCLPlatform {
        func info(_ parameter: Int32, _ name: String) -> String {
            (try? queryInfoString("clGetPlatformInfo(\(name))") { size, value, sizeOut in
                lovasz_clGetPlatformInfo(id, cl_platform_info(parameter), size, value, sizeOut)
            }) ?? "?"
        }
        let name = info(CL_PLATFORM_NAME, "CL_PLATFORM_NAME")
        let vendor = info(CL_PLATFORM_VENDOR, "CL_PLATFORM_VENDOR")
        let version = info(CL_PLATFORM_VERSION, "CL_PLATFORM_VERSION")

        var problems: [String] = []
        var devices: [OpenCLDevice] = []
        var count: cl_uint = 0
        let all = cl_device_type(CL_DEVICE_TYPE_ALL)
        let status = lovasz_clGetDeviceIDs(id, all, 0, nil, &count)
        if status == CL_SUCCESS, count > 0 {
            var deviceIDs = [cl_device_id?](repeating: nil, count: Int(count))
            let listStatus = lovasz_clGetDeviceIDs(id, all, count, &deviceIDs, &count)
            if listStatus == CL_SUCCESS {
                for deviceID in deviceIDs.prefix(Int(count)).compactMap({ $0 }) {
                    do {
                        devices.append(try describeDevice(
                            CLDeviceHandle(device: deviceID, platform: id),
                            index: firstDeviceIndex + devices.count, platformIndex: index,
                            platformName: name, platformVersion: version))
                    } catch {
                        problems.append("a device could not be described: \(error)")
                    }
                }
            } else {
                problems.append(OpenCLError(clStatus: listStatus, call: "clGetDeviceIDs").description)
            }
        } else if status != CL_DEVICE_NOT_FOUND && status != CL_SUCCESS {
            problems.append(OpenCLError(clStatus: status, call: "clGetDeviceIDs").description)
        }
        return OpenCLPlatform(
            index: index, name: name, vendor: vendor, version: version, devices: devices,
            problem: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    static func describeDevice(
        _ handle: CLDeviceHandle, index: Int, platformIndex: Int, platformName: String, platformVersion: String
    ) throws(OpenCLError) -> OpenCLDevice {
        let id = handle.device
        func string(_ parameter: Int32, _ name: String) throws(OpenCLError) -> String {
            try queryInfoString("clGetDeviceInfo(\(name))") { size, value, sizeOut in
                lovasz_clGetDeviceInfo(id, cl_device_info(parameter), size, value, sizeOut)
            }
        }
        func value<T: BitwiseCopyable>(_ type: T.Type, _ parameter: Int32, _ name: String) throws(OpenCLError) -> T {
            try queryInfoValue(T.self, "clGetDeviceInfo(\(name))") { size, value, sizeOut in
                lovasz_clGetDeviceInfo(id, cl_device_info(parameter), size, value, sizeOut)
            }
        }
        let type = try value(cl_device_type.self, CL_DEVICE_TYPE, "CL_DEVICE_TYPE")
        let kind: OpenCLDeviceKind =
            if type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 { .gpu }
            else if type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 { .accelerator }
            else if type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 { .cpu }
            else { .other }
        let singleConfig = try value(cl_device_fp_config.self, CL_DEVICE_SINGLE_FP_CONFIG, "CL_DEVICE_SINGLE_FP_CONFIG")
        let extensions = try string(CL_DEVICE_EXTENSIONS, "CL_DEVICE_EXTENSIONS")
            .split(separator: " ").map(String.init)
        // CL_DEVICE_DOUBLE_FP_CONFIG is core since OpenCL 1.2; older devices advertise cl_khr_fp64.
        let doubleConfig = (try? value(cl_device_fp_config.self, CL_DEVICE_DOUBLE_FP_CONFIG, "CL_DEVICE_DOUBLE_FP_CONFIG")) ?? 0
        let dimensions = try value(cl_uint.self, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS")
        let itemSizeBytes = try queryInfoBytes("clGetDeviceInfo(CL_DEVICE_MAX_WORK_ITEM_SIZES)") { size, value, sizeOut in
            lovasz_clGetDeviceInfo(id, cl_device_info(CL_DEVICE_MAX_WORK_ITEM_SIZES), size, value, sizeOut)
        }
        let itemSizes = itemSizeBytes.withUnsafeBytes { raw in
            (0..<min(Int(dimensions), raw.count / MemoryLayout<Int>.size)).map {
                raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<Int>.size, as: Int.self)
            }
        }
        let available = try value(cl_bool.self, CL_DEVICE_AVAILABLE, "CL_DEVICE_AVAILABLE")
        let compiler = try value(cl_bool.self, CL_DEVICE_COMPILER_AVAILABLE, "CL_DEVICE_COMPILER_AVAILABLE")
        return OpenCLDevice(
            index: index, platformIndex: platformIndex,
            platformName: platformName, platformVersion: platformVersion,
            name: try string(CL_DEVICE_NAME, "CL_DEVICE_NAME"),
            vendor: try string(CL_DEVICE_VENDOR, "CL_DEVICE_VENDOR"),
            kind: kind,
            version: try string(CL_DEVICE_VERSION, "CL_DEVICE_VERSION"),
            openCLCVersion: (try? string(CL_DEVICE_OPENCL_C_VERSION, "CL_DEVICE_OPENCL_C_VERSION")) ?? "",
            driverVersion: try string(CL_DRIVER_VERSION, "CL_DRIVER_VERSION"),
            computeUnits: Int(try value(cl_uint.self, CL_DEVICE_MAX_COMPUTE_UNITS, "CL_DEVICE_MAX_COMPUTE_UNITS")),
            globalMemoryBytes: try value(cl_ulong.self, CL_DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE"),
            maxAllocationBytes: try value(cl_ulong.self, CL_DEVICE_MAX_MEM_ALLOC_SIZE, "CL_DEVICE_MAX_MEM_ALLOC_SIZE"),
            localMemoryBytes: try value(cl_ulong.self, CL_DEVICE_LOCAL_MEM_SIZE, "CL_DEVICE_LOCAL_MEM_SIZE"),
            maxWorkGroupSize: try value(Int.self, CL_DEVICE_MAX_WORK_GROUP_SIZE, "CL_DEVICE_MAX_WORK_GROUP_SIZE"),
            maxWorkItemSizes: itemSizes,
            supportsDouble: doubleConfig != 0 || extensions.contains("cl_khr_fp64"),
            correctlyRoundedDivideSqrt: singleConfig & cl_device_fp_config(CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0,
            hostUnifiedMemory: ((try? value(cl_bool.self, CL_DEVICE_HOST_UNIFIED_MEMORY, "CL_DEVICE_HOST_UNIFIED_MEMORY")) ?? 0) != 0,
            isUsable: available != 0 && compiler != 0,
            extensions: extensions,
            handle: handle)
    }
}
