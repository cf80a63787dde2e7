import Testing
@testable import Lovasz

/// The device selection rule of docs/DESIGN.md §5 on synthetic device lists (no OpenCL needed).
@Suite struct RuntimeSelectionTests {
    static let gpu = OpenCLDevice(
        index: 1, platformName: "NVIDIA CUDA", name: "NVIDIA H100", kind: .gpu, globalMemoryBytes: 80 << 30)
    static let cpu = OpenCLDevice(
        index: 0, platformName: "Portable Computing Language", name: "pthread-cpu", kind: .cpu,
        globalMemoryBytes: 4 << 30, hostUnifiedMemory: true)
    static let accelerator = OpenCLDevice(index: 2, name: "FPGA card", kind: .accelerator, globalMemoryBytes: 8 << 30)

    static func discovery(_ devices: [OpenCLDevice]) -> OpenCLDiscovery {
        // Indices must match positions, as discovery numbers them.
        let renumbered = devices.enumerated().map { position, device in
            OpenCLDevice(
                index: position, platformName: device.platformName, name: device.name, kind: device.kind,
                globalMemoryBytes: device.globalMemoryBytes, hostUnifiedMemory: device.hostUnifiedMemory,
                isUsable: device.isUsable)
        }
        return OpenCLDiscovery(devices: renumbered)
    }

    @Test(arguments: [BackendChoice.auto, .opencl])
    func gpuIsPreferredOverCPU(choice: BackendChoice) throws {
        let selection = Self.discovery([Self.cpu, Self.gpu]).selectDevice(for: choice, override: nil)
        let device = try #require(selection.device)
        #expect(device.name == "NVIDIA H100")
        #expect(device.index == 1)
        #expect(selection.reason == "the GPU NVIDIA H100 (NVIDIA CUDA) is preferred")
    }

    @Test func onlyCPUDevicesMeanTheCPUPathForAuto() {
        let selection = Self.discovery([Self.cpu]).selectDevice(for: .auto, override: nil)
        #expect(selection.device == nil)
        #expect(selection.reason == "only CPU OpenCL devices (pthread-cpu (Portable Computing Language)); the CPU path is faster")
    }

    @Test func explicitOpenCLUsesTheCPUDeviceWhenThereIsNothingElse() throws {
        let selection = Self.discovery([Self.cpu]).selectDevice(for: .opencl, override: nil)
        #expect(try #require(selection.device).name == "pthread-cpu")
        #expect(selection.reason.contains("no GPU or accelerator"))
    }

    @Test(arguments: [BackendChoice.auto, .opencl])
    func acceleratorComesAfterGPUsAndBeforeCPUs(choice: BackendChoice) throws {
        let withoutGPU = Self.discovery([Self.cpu, Self.accelerator]).selectDevice(for: choice, override: nil)
        #expect(try #require(withoutGPU.device).name == "FPGA card")
        #expect(withoutGPU.reason == "no GPU; the accelerator FPGA card is used")
        let withGPU = Self.discovery([Self.accelerator, Self.cpu, Self.gpu]).selectDevice(for: choice, override: nil)
        #expect(try #require(withGPU.device).name == "NVIDIA H100")
    }

    @Test func discreteGPUBeatsIntegratedThenMoreMemoryWins() throws {
        let integrated = OpenCLDevice(index: 0, name: "iGPU", kind: .gpu, globalMemoryBytes: 32 << 30, hostUnifiedMemory: true)
        let small = OpenCLDevice(index: 0, name: "small dGPU", kind: .gpu, globalMemoryBytes: 8 << 30)
        let large = OpenCLDevice(index: 0, name: "large dGPU", kind: .gpu, globalMemoryBytes: 24 << 30)
        let twin = OpenCLDevice(index: 0, name: "large dGPU twin", kind: .gpu, globalMemoryBytes: 24 << 30)
        let selection = Self.discovery([integrated, small, large, twin]).selectDevice(for: .auto, override: nil)
        #expect(try #require(selection.device).name == "large dGPU")  // the first of equals
        let onlyIntegrated = Self.discovery([Self.cpu, integrated]).selectDevice(for: .auto, override: nil)
        #expect(try #require(onlyIntegrated.device).name == "iGPU")
    }

    @Test func unusableDevicesAreSkipped() throws {
        let broken = OpenCLDevice(index: 0, name: "offline GPU", kind: .gpu, isUsable: false)
        let selection = Self.discovery([broken, Self.cpu]).selectDevice(for: .opencl, override: nil)
        #expect(try #require(selection.device).name == "pthread-cpu")
        let none = Self.discovery([broken]).selectDevice(for: .auto, override: nil)
        #expect(none.device == nil)
        #expect(none.reason == "no usable OpenCL device: offline GPU is not available or has no compiler")
    }

    @Test(arguments: [BackendChoice.auto, .opencl])
    func libraryThatDoesNotLoadIsTheReason(choice: BackendChoice) {
        let dlerror = "libOpenCL.so.1: cannot open shared object file: No such file or directory"
        let selection = OpenCLDiscovery(failure: .libraryNotLoaded(dlerror)).selectDevice(for: choice, override: nil)
        #expect(selection.device == nil)
        #expect(selection.reason == "the OpenCL library could not be loaded (\(dlerror))")
    }

    @Test func noPlatformIsTheReason() {
        let khr = OpenCLDiscovery(failure: .noPlatform(status: -1001)).selectDevice(for: .auto, override: nil)
        #expect(khr.device == nil)
        #expect(khr.reason.hasPrefix("no OpenCL platform is installed: clGetPlatformIDs returned CL_PLATFORM_NOT_FOUND_KHR (-1001)"))
        let none = OpenCLDiscovery(failure: .noPlatform(status: 0)).selectDevice(for: .opencl, override: nil)
        #expect(none.reason == "no OpenCL platform is installed: clGetPlatformIDs found none")
        let failed = OpenCLDiscovery(failure: .enumerationFailed(OpenCLError(status: -6, call: "clGetPlatformIDs")))
        #expect(failed.selectDevice(for: .auto, override: nil).reason
            == "listing the OpenCL platforms failed: clGetPlatformIDs failed with CL_OUT_OF_HOST_MEMORY (-6)")
    }

    @Test func platformWithoutDevicesIsTheReason() {
        let selection = OpenCLDiscovery(devices: [], platformName: "Empty").selectDevice(for: .opencl, override: nil)
        #expect(selection.device == nil)
        #expect(selection.reason == "the OpenCL platform (Empty) exposes no device")
    }

    @Test func cpuChoiceNeverSelectsADevice() {
        let selection = Self.discovery([Self.gpu]).selectDevice(for: .cpu, override: "0")
        #expect(selection.device == nil)
        #expect(selection.reason == "the CPU backend was asked for")
    }

    @Test(arguments: [BackendChoice.auto, .opencl])
    func overrideSelectsTheNamedDeviceWhateverItsKind(choice: BackendChoice) throws {
        let selection = Self.discovery([Self.gpu, Self.cpu]).selectDevice(for: choice, override: " 1 ")
        #expect(try #require(selection.device).name == "pthread-cpu")
        #expect(selection.reason == "LOVASZ_OPENCL_DEVICE=1 selects pthread-cpu (Portable Computing Language)")
    }

    @Test(arguments: ["2", "-1", "gpu", "1.0"])
    func overrideNamingNoDeviceSelectsNone(value: String) {
        let selection = Self.discovery([Self.gpu, Self.cpu]).selectDevice(for: .auto, override: value)
        #expect(selection.device == nil)
        #expect(selection.reason == "LOVASZ_OPENCL_DEVICE=\(value) names no OpenCL device (devices are 0...1; see `lovasz devices`)")
    }

    @Test func overrideNamingAnUnusableDeviceSelectsNone() {
        let broken = OpenCLDevice(index: 0, name: "offline GPU", kind: .gpu, isUsable: false)
        let selection = Self.discovery([broken, Self.cpu]).selectDevice(for: .opencl, override: "0")
        #expect(selection.device == nil)
        #expect(selection.reason == "LOVASZ_OPENCL_DEVICE=0 names offline GPU, which is not available or has no compiler")
    }

    @Test func deviceIndexSelectsThatDeviceWhateverItsKindOrNamesTheProblem() throws {
        let discovery = Self.discovery([Self.gpu, Self.cpu])
        let selection = discovery.selectDevice(index: 1)
        #expect(try #require(selection.device).name == "pthread-cpu")
        #expect(selection.reason == "OpenCL device 1 selects pthread-cpu (Portable Computing Language)")
        let missing = discovery.selectDevice(index: 2)
        #expect(missing.device == nil)
        #expect(missing.reason == "OpenCL device 2 names no OpenCL device (devices are 0...1; see `lovasz devices`)")
    }
}
