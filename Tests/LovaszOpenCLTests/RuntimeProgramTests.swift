import Dispatch
import Synchronization
import Testing
@testable import Lovasz

/// Program builds, the program cache, object lifetimes and the errors of misuse, on a real
/// OpenCL device (PoCL in CI).
@Suite(.enabled(if: RuntimeTestDevice.isAvailable, "needs an OpenCL platform (PoCL in CI)"))
struct RuntimeProgramTests {
    static let copyKernel = """
        __kernel void copy(__global const int *from, __global int *to) {
            to[get_global_id(0)] = from[get_global_id(0)];
        }
        """

    @Test func buildFailureCarriesTheLogNamingTheBadLine() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let source = """
            __kernel void broken(__global float *x) {
                size_t i = get_global_id(0);
                x[i] = undeclared_value_42 * 2.0f;
            }
            """
        let error = try #require(throws: OpenCLError.self) {
            try CLProgram(context: queue.context, source: source, options: "-DUNUSED=1")
        }
        #expect(error.call == "clBuildProgram")
        #expect(error.statusName == "CL_BUILD_PROGRAM_FAILURE")
        let log = try #require(error.buildLog)
        #expect(log.contains("undeclared_value_42"))
        #expect(log.contains(":3:"))  // the line of the bad expression
        #expect(error.detail == "options: -DUNUSED=1")
        #expect(error.description.hasPrefix("clBuildProgram failed with CL_BUILD_PROGRAM_FAILURE (-11)"))
    }

    @Test func invalidBuildOptionsAreReported() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let error = try #require(throws: OpenCLError.self) {
            try CLProgram(context: queue.context, source: Self.copyKernel, options: "-no-such-option-xyz")
        }
        #expect(error.call == "clBuildProgram")
        #expect(["CL_INVALID_BUILD_OPTIONS", "CL_BUILD_PROGRAM_FAILURE"].contains(error.statusName))
    }

    @Test func unknownKernelNameIsReported() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let program = try CLProgram(context: queue.context, source: Self.copyKernel)
        let error = try #require(throws: OpenCLError.self) { try program.makeKernel("no_such_kernel") }
        #expect(error.statusName == "CL_INVALID_KERNEL_NAME")
        #expect(error.detail == "kernel no_such_kernel")
    }

    @Test func cacheReturnsTheSameProgramForTheSameDeviceSourceAndOptions() throws {
        let device = try #require(RuntimeTestDevice.device)
        let cache = ProgramCache()
        let first = try cache.program(for: device, source: Self.copyKernel, options: "-DA=1")
        let second = try cache.program(for: device, source: Self.copyKernel, options: "-DA=1")
        let otherOptions = try cache.program(for: device, source: Self.copyKernel, options: "-DA=2")
        let otherSource = try cache.program(for: device, source: Self.copyKernel + "\n", options: "-DA=1")
        #expect(first === second)
        #expect(first !== otherOptions && first !== otherSource)
        #expect(cache.count == 3)
        cache.removeAll()
        #expect(cache.count == 0)
    }

    @Test func cacheBuildsOnceUnderConcurrentRequests() throws {
        let device = try #require(RuntimeTestDevice.device)
        let cache = ProgramCache()
        let seen = Mutex<Set<ObjectIdentifier>>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            if let program = try? cache.program(for: device, source: Self.copyKernel) {
                seen.withLock { _ = $0.insert(ObjectIdentifier(program)) }
            }
        }
        #expect(seen.withLock { $0.count } == 1)
        #expect(cache.count == 1)
    }

    @Test func cacheDoesNotKeepFailedBuilds() throws {
        let device = try #require(RuntimeTestDevice.device)
        let cache = ProgramCache()
        for _ in 0..<2 {
            #expect(throws: OpenCLError.self) { try cache.program(for: device, source: "__kernel void k( {") }
        }
        #expect(cache.count == 0)
    }

    /// Drops the Swift references to a context, queue, program, kernel and two buffers in
    /// `order`, running the kernel while the last of them is still held; nothing may crash
    /// and the kernel must still compute the right numbers.
    @Test(arguments: [
        [0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [2, 0, 5, 1, 3, 4], [3, 1, 4, 0, 5, 2],
    ])
    func objectsMayBeReleasedInAnyOrder(order: [Int]) throws {
        var context: CLContext? = try CLContext(device: #require(RuntimeTestDevice.device))
        var queue: CLCommandQueue? = try CLCommandQueue(context: #require(context))
        var program: CLProgram? = try CLProgram(context: #require(context), source: Self.copyKernel)
        var kernel: CLKernel? = try #require(program).makeKernel("copy")
        var from: CLBuffer? = try CLBuffer(context: #require(context), byteCount: 16 * 4)
        var to: CLBuffer? = try CLBuffer(context: #require(context), byteCount: 16 * 4)
        let values = (0..<16).map { Int32($0 * $0) }
        try from?.write(values, on: #require(queue))
        try kernel?.setArgument(0, buffer: #require(from))
        try kernel?.setArgument(1, buffer: #require(to))

        for (step, object) in order.enumerated() {
            // Run and check whenever the kernel, the queue and the output are all still held.
            if let kernel, let queue, let to {
                try queue.enqueue(kernel, globalSize: [16])
                #expect(try to.read(Int32.self, count: 16, on: queue) == values, "before release step \(step)")
            }
            switch object {
            case 0: context = nil
            case 1: queue = nil
            case 2: program = nil
            case 3: kernel = nil
            case 4: from = nil
            default: to = nil
            }
        }
        #expect(context == nil && queue == nil && program == nil && kernel == nil && from == nil && to == nil)
    }

    @Test func misuseIsCaughtBeforeReachingOpenCL() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let buffer = try CLBuffer(context: queue.context, byteCount: 16)
        let kernel = try RuntimeTestDevice.makeKernel("copy", source: Self.copyKernel, on: queue)

        let overrun = try #require(throws: OpenCLError.self) {
            try buffer.write([Int32](repeating: 0, count: 5), on: queue)
        }
        #expect(overrun.statusName == "CL_INVALID_VALUE")
        #expect(overrun.detail == "20 bytes at offset 0 of a 16-byte buffer")
        #expect(throws: OpenCLError.self) { try buffer.read(Int32.self, count: 2, fromByteOffset: 12, on: queue) }
        #expect(throws: OpenCLError.self) { try buffer.read(Int32.self, count: 0, on: queue) }
        // Counts whose bytes overflow, or are negative, are refused before any array is made.
        #expect(throws: OpenCLError.self) { try buffer.read(Int32.self, count: Int.max / 2, on: queue) }
        #expect(throws: OpenCLError.self) { try buffer.read(Int32.self, count: -1, on: queue) }
        #expect(throws: OpenCLError.self) { try buffer.fill(with: (UInt8(1), UInt8(2), UInt8(3)), on: queue) }
        #expect(throws: OpenCLError.self) { try buffer.fill(with: UInt64(0), atByteOffset: 4, on: queue) }

        let empty = try #require(throws: OpenCLError.self) { try CLBuffer(context: queue.context, byteCount: 0) }
        #expect(empty.statusName == "CL_INVALID_BUFFER_SIZE")

        let dimensions = try #require(throws: OpenCLError.self) { try queue.enqueue(kernel, globalSize: [1, 1, 1, 1]) }
        #expect(dimensions.statusName == "CL_INVALID_WORK_DIMENSION")
        let local = try #require(throws: OpenCLError.self) { try queue.enqueue(kernel, globalSize: [10], localSize: [4]) }
        #expect(local.statusName == "CL_INVALID_WORK_GROUP_SIZE")
        #expect(local.call == "clEnqueueNDRangeKernel(copy)")
    }

    @Test func openCLReportsBadArguments() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let kernel = try RuntimeTestDevice.makeKernel("copy", source: Self.copyKernel, on: queue)
        let index = try #require(throws: OpenCLError.self) { try kernel.setArgument(7, value: Int32(0)) }
        #expect(index.statusName == "CL_INVALID_ARG_INDEX")
        #expect(index.call == "clSetKernelArg(copy, 7)")
        // The kernel's arguments are not all set: OpenCL refuses the launch.
        let unset = try #require(throws: OpenCLError.self) { try queue.enqueue(kernel, globalSize: [4]) }
        #expect(unset.statusName == "CL_INVALID_KERNEL_ARGS")
    }

    @Test func handMadeDeviceDescriptionsCannotMakeAContext() {
        let device = OpenCLDevice(index: 0, name: "Imaginary GPU", kind: .gpu)
        let error = #expect(throws: OpenCLError.self) { try CLContext(device: device) }
        #expect(error?.statusName == "CL_INVALID_DEVICE")
    }
}
