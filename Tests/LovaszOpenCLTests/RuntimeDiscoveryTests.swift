import Testing
@testable import Lovasz

/// Discovery on this host's OpenCL (PoCL in CI).
@Suite struct RuntimeDiscoveryTests {
    @Test(.enabled(if: RuntimeTestDevice.isAvailable, "needs an OpenCL platform (PoCL in CI)"))
    func enumeratesPlatformsAndDevices() throws {
        let discovery = OpenCLDiscovery.system
        #expect(discovery.failure == nil)
        #expect(discovery.libraryName != nil)
        #expect(!discovery.platforms.isEmpty)
        for (index, platform) in discovery.platforms.enumerated() {
            #expect(platform.index == index)
            #expect(!platform.name.isEmpty)
            #expect(platform.version.hasPrefix("OpenCL "))
        }
        let devices = discovery.devices
        #expect(!devices.isEmpty)
        for (index, device) in devices.enumerated() {
            #expect(device.index == index)
            #expect(discovery.platforms[device.platformIndex].name == device.platformName)
            #expect(!device.name.isEmpty)
            #expect(device.version.hasPrefix("OpenCL "))
            #expect(device.computeUnits >= 1)
            #expect(device.maxAllocationBytes >= 1)
            #expect(device.globalMemoryBytes >= device.maxAllocationBytes)
            #expect(device.localMemoryBytes >= 1024)
            #expect(device.maxWorkGroupSize >= 1)
            #expect((1...3).contains(device.maxWorkItemSizes.count))
            #expect(device.handle != nil)
        }
    }

    @Test(.enabled(if: RuntimeTestDevice.isAvailable, "needs an OpenCL platform (PoCL in CI)"))
    func discoveringAgainSeesTheSameDevices() {
        let again = OpenCLDiscovery.discover()
        #expect(again == OpenCLDiscovery.system)
    }

    @Test(.enabled(if: OpenCLDiscovery.system.platforms.contains { $0.name == "Portable Computing Language" },
                   "PoCL is not installed"))
    func describesPoCLsCPUDevice() throws {
        let pocl = try #require(OpenCLDiscovery.system.devices.first { $0.platformName == "Portable Computing Language" })
        #expect(pocl.kind == .cpu)
        #expect(pocl.isUsable)
        #expect(pocl.hostUnifiedMemory)
        // PoCL's CPU device supports doubles and correctly rounded float divide/sqrt.
        #expect(pocl.supportsDouble == pocl.extensions.contains("cl_khr_fp64"))
        #expect(pocl.correctlyRoundedDivideSqrt)
    }
}

/// The OpenCL device the runtime tests run on: the one `--backend opencl` would pick
/// (PoCL's CPU device in CI), or `nil` on a host with no OpenCL platform.
enum RuntimeTestDevice {
    static let device: OpenCLDevice? = OpenCLDiscovery.system.selectDevice(for: .opencl, override: nil).device

    /// Whether there is a device to run on.
    static var isAvailable: Bool { device != nil }

    /// A fresh context and in-order queue on the test device.
    static func makeQueue(profiling: Bool = false) throws -> CLCommandQueue {
        let device = try #require(device)
        return try CLCommandQueue(context: CLContext(device: device), profiling: profiling)
    }

    /// Builds `source` on the queue's context and returns its kernel `name`.
    static func makeKernel(_ name: String, source: String, on queue: CLCommandQueue) throws -> CLKernel {
        try CLProgram(context: queue.context, source: source).makeKernel(name)
    }
}

/// Deterministic pseudo-random floats in [-1, 1) (a 64-bit LCG), so failures reproduce.
func pseudoRandomFloats(count: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(1 << 31)
    }
}
