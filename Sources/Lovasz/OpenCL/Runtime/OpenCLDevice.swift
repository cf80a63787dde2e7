internal import CLovaszOpenCL

/// The kind of an OpenCL device (`CL_DEVICE_TYPE`).
public enum OpenCLDeviceKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A graphics processor.
    case gpu
    /// A central processor (for example PoCL's device).
    case cpu
    /// A dedicated accelerator.
    case accelerator
    /// Any other kind (`CL_DEVICE_TYPE_CUSTOM`).
    case other
}

/// One OpenCL device as discovery saw it: where it is and what it can do.
///
/// Descriptions are values; the handle to the device itself stays inside the library.
public struct OpenCLDevice: Sendable, Hashable, CustomStringConvertible {
    /// The device's position in ``OpenCLDiscovery/devices`` (platform order, then device
    /// order): the number `LOVASZ_OPENCL_DEVICE` takes and `lovasz devices` prints.
    public let index: Int
    /// The position of its platform in ``OpenCLDiscovery/platforms``.
    public let platformIndex: Int
    /// `CL_PLATFORM_NAME`, for example `Portable Computing Language`.
    public let platformName: String
    /// `CL_PLATFORM_VERSION`, for example `OpenCL 3.0 PoCL 3.1`.
    public let platformVersion: String
    /// `CL_DEVICE_NAME`.
    public let name: String
    /// `CL_DEVICE_VENDOR`.
    public let vendor: String
    /// `CL_DEVICE_TYPE`, reduced to one kind (a GPU bit wins, then accelerator, then CPU).
    public let kind: OpenCLDeviceKind
    /// `CL_DEVICE_VERSION`, for example `OpenCL 3.0 CUDA`.
    public let version: String
    /// `CL_DEVICE_OPENCL_C_VERSION`, for example `OpenCL C 1.2`.
    public let openCLCVersion: String
    /// `CL_DRIVER_VERSION`.
    public let driverVersion: String
    /// `CL_DEVICE_MAX_COMPUTE_UNITS`.
    public let computeUnits: Int
    /// `CL_DEVICE_GLOBAL_MEM_SIZE`, in bytes.
    public let globalMemoryBytes: UInt64
    /// `CL_DEVICE_MAX_MEM_ALLOC_SIZE`: the largest single buffer, in bytes.
    public let maxAllocationBytes: UInt64
    /// `CL_DEVICE_LOCAL_MEM_SIZE`: local (shared) memory per work-group, in bytes.
    public let localMemoryBytes: UInt64
    /// `CL_DEVICE_MAX_WORK_GROUP_SIZE`.
    public let maxWorkGroupSize: Int
    /// `CL_DEVICE_MAX_WORK_ITEM_SIZES`, one entry per dimension.
    public let maxWorkItemSizes: [Int]
    /// Whether the device computes in double precision (`CL_DEVICE_DOUBLE_FP_CONFIG` ≠ 0).
    public let supportsDouble: Bool
    /// Whether single-precision divide and square root can be correctly rounded
    /// (`CL_DEVICE_SINGLE_FP_CONFIG` has `CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT`), so that
    /// programs may be built with `-cl-fp32-correctly-rounded-divide-sqrt`.
    public let correctlyRoundedDivideSqrt: Bool
    /// `CL_DEVICE_HOST_UNIFIED_MEMORY`: true for integrated GPUs and CPU devices.
    public let hostUnifiedMemory: Bool
    /// Whether the device is available and has a compiler (`CL_DEVICE_AVAILABLE`,
    /// `CL_DEVICE_COMPILER_AVAILABLE`); a device that is not cannot run the kernels.
    public let isUsable: Bool
    /// `CL_DEVICE_EXTENSIONS`.
    public let extensions: [String]

    /// The OpenCL handle; `nil` for a description made by hand (tests).
    let handle: CLDeviceHandle?

    init(
        index: Int, platformIndex: Int = 0,
        platformName: String = "", platformVersion: String = "",
        name: String, vendor: String = "", kind: OpenCLDeviceKind,
        version: String = "OpenCL 1.2", openCLCVersion: String = "OpenCL C 1.2", driverVersion: String = "",
        computeUnits: Int = 1, globalMemoryBytes: UInt64 = 0, maxAllocationBytes: UInt64 = 0,
        localMemoryBytes: UInt64 = 0, maxWorkGroupSize: Int = 1, maxWorkItemSizes: [Int] = [1, 1, 1],
        supportsDouble: Bool = false, correctlyRoundedDivideSqrt: Bool = false,
        hostUnifiedMemory: Bool = false, isUsable: Bool = true, extensions: [String] = [],
        handle: CLDeviceHandle? = nil
    ) {
        self.index = index
        self.platformIndex = platformIndex
        self.platformName = platformName
        self.platformVersion = platformVersion
        self.name = name
        self.vendor = vendor
        self.kind = kind
        self.version = version
        self.openCLCVersion = openCLCVersion
        self.driverVersion = driverVersion
        self.computeUnits = computeUnits
        self.globalMemoryBytes = globalMemoryBytes
        self.maxAllocationBytes = maxAllocationBytes
        self.localMemoryBytes = localMemoryBytes
        self.maxWorkGroupSize = maxWorkGroupSize
        self.maxWorkItemSizes = maxWorkItemSizes
        self.supportsDouble = supportsDouble
        self.correctlyRoundedDivideSqrt = correctlyRoundedDivideSqrt
        self.hostUnifiedMemory = hostUnifiedMemory
        self.isUsable = isUsable
        self.extensions = extensions
        self.handle = handle
    }

    /// `"<name> (<platform>)"`.
    public var description: String {
        platformName.isEmpty ? name : "\(name) (\(platformName))"
    }
}

/// A device and platform handle from `clGetDeviceIDs`.
// @unchecked Sendable: a root device and its platform are immutable handles valid for the life
// of the process, and every OpenCL call taking them is thread-safe (OpenCL 1.2 §A.2).
struct CLDeviceHandle: @unchecked Sendable, Hashable {
    let device: cl_device_id
    let platform: cl_platform_id
}
