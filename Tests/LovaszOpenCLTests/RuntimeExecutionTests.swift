import Testing
@testable import Lovasz

/// Buffers, kernels and ND-ranges on a real OpenCL device (PoCL in CI), checked against
/// the same arithmetic done in Swift.
@Suite(.enabled(if: RuntimeTestDevice.isAvailable, "needs an OpenCL platform (PoCL in CI)"))
struct RuntimeExecutionTests {
    static let vectorAdd = """
        __kernel void vector_add(__global const float *a, __global const float *b,
                                 __global float *sum, const uint n) {
            size_t i = get_global_id(0);
            if (i < n) sum[i] = a[i] + b[i];
        }
        """

    @Test(arguments: [1, 7, 1000])
    func vectorAddMatchesSwift(count: Int) throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let kernel = try RuntimeTestDevice.makeKernel("vector_add", source: Self.vectorAdd, on: queue)
        let a = pseudoRandomFloats(count: count, seed: 1), b = pseudoRandomFloats(count: count, seed: 2)
        let bytes = count * MemoryLayout<Float>.stride
        let bufferA = try CLBuffer(context: queue.context, byteCount: bytes, access: .readOnly)
        let bufferB = try CLBuffer(context: queue.context, byteCount: bytes, access: .readOnly)
        let bufferSum = try CLBuffer(context: queue.context, byteCount: bytes, access: .writeOnly)
        try bufferA.write(a, on: queue)
        try bufferB.write(b, on: queue)
        try kernel.setArgument(0, buffer: bufferA)
        try kernel.setArgument(1, buffer: bufferB)
        try kernel.setArgument(2, buffer: bufferSum)
        try kernel.setArgument(3, value: UInt32(count))
        let local = 16
        try queue.enqueue(kernel, globalSize: [(count + local - 1) / local * local], localSize: [local])
        let sum = try bufferSum.read(Float.self, count: count, on: queue)
        // One correctly rounded float addition each: bit-identical to Swift's.
        #expect(sum == zip(a, b).map { $0 + $1 })
    }

    @Test func nonBlockingWriteAndReadCompleteAfterTheirEvents() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let kernel = try RuntimeTestDevice.makeKernel("scale", source: """
            __kernel void scale(__global float *x, const float factor) { x[get_global_id(0)] *= factor; }
            """, on: queue)
        let count = 513
        let input = pseudoRandomFloats(count: count, seed: 3)
        let buffer = try CLBuffer(context: queue.context, byteCount: count * 4)
        var output = [Float](repeating: .nan, count: count)
        try input.withUnsafeBytes { source in
            try output.withUnsafeMutableBytes { destination in
                let written = try buffer.write(from: source, on: queue, blocking: false)
                try kernel.setArgument(0, buffer: buffer)
                try kernel.setArgument(1, value: Float(-3))
                try queue.enqueue(kernel, globalSize: [count])
                let read = try buffer.read(into: destination, on: queue, blocking: false)
                try CLEvent.wait(for: [written, read])
            }
        }
        #expect(output == input.map { $0 * -3 })
    }

    @Test func readsAndWritesAtByteOffsets() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let buffer = try CLBuffer(context: queue.context, byteCount: 10 * 4)
        try buffer.write([Int32](0..<10), on: queue)
        try buffer.write([Int32(-1), -2], atByteOffset: 3 * 4, on: queue)
        #expect(try buffer.read(Int32.self, count: 10, on: queue) == [0, 1, 2, -1, -2, 5, 6, 7, 8, 9])
        #expect(try buffer.read(Int32.self, count: 3, fromByteOffset: 7 * 4, on: queue) == [7, 8, 9])
    }

    @Test func fillSetsTheWholeBufferOrARange() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let count = 100
        let buffer = try CLBuffer(context: queue.context, byteCount: count * 4)
        try buffer.fill(with: Float(2.5), on: queue)
        try buffer.fill(with: UInt32(0x3F80_0000), atByteOffset: 10 * 4, byteCount: 5 * 4, on: queue)  // 1.0
        try buffer.fill(with: UInt64(0), atByteOffset: 96 * 4, on: queue)  // the last 4 floats
        var expected = [Float](repeating: 2.5, count: count)
        for i in 10..<15 { expected[i] = 1 }
        for i in 96..<100 { expected[i] = 0 }
        #expect(try buffer.read(Float.self, count: count, on: queue) == expected)
    }

    @Test func copyMovesARangeBetweenBuffers() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let source = try CLBuffer(context: queue.context, byteCount: 8 * 4)
        let destination = try CLBuffer(context: queue.context, byteCount: 6 * 4)
        try source.write([Float](repeating: 0, count: 8).indices.map(Float.init), on: queue)
        try destination.fill(with: Float(-1), on: queue)
        try destination.copy(from: source, sourceByteOffset: 2 * 4, toByteOffset: 1 * 4, byteCount: 4 * 4, on: queue)
        #expect(try destination.read(Float.self, count: 6, on: queue) == [-1, 2, 3, 4, 5, -1])
    }

    @Test(arguments: [(width: 12, height: 6, local: [4, 2] as [Int]?), (width: 5, height: 3, local: nil)])
    func twoDimensionalRangeCoversEveryItemOnce(width: Int, height: Int, local: [Int]?) throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let kernel = try RuntimeTestDevice.makeKernel("coordinates", source: """
            __kernel void coordinates(__global int *out) {
                int x = get_global_id(0), y = get_global_id(1), w = get_global_size(0);
                out[y * w + x] += x * 1000 + y + 1;
            }
            """, on: queue)
        let output = try CLBuffer(context: queue.context, byteCount: width * height * 4)
        try output.fill(with: Int32(0), on: queue)
        try kernel.setArgument(0, buffer: output)
        try queue.enqueue(kernel, globalSize: [width, height], localSize: local)
        var expected: [Int32] = []
        for y in 0..<height { for x in 0..<width { expected.append(Int32(x * 1000 + y + 1)) } }
        #expect(try output.read(Int32.self, count: width * height, on: queue) == expected)
    }

    @Test func localMemoryArgumentHoldsAWorkGroupReduction() throws {
        let queue = try RuntimeTestDevice.makeQueue()
        let kernel = try RuntimeTestDevice.makeKernel("group_sum", source: """
            __kernel void group_sum(__global const int *x, __global int *sums, __local int *scratch) {
                size_t l = get_local_id(0), n = get_local_size(0);
                scratch[l] = x[get_global_id(0)];
                barrier(CLK_LOCAL_MEM_FENCE);
                for (size_t stride = n / 2; stride > 0; stride /= 2) {
                    if (l < stride) scratch[l] += scratch[l + stride];
                    barrier(CLK_LOCAL_MEM_FENCE);
                }
                if (l == 0) sums[get_group_id(0)] = scratch[0];
            }
            """, on: queue)
        let local = 64
        #expect(try kernel.maxWorkGroupSize >= local)
        #expect(try kernel.preferredWorkGroupSizeMultiple >= 1)
        let groups = 5
        let values = (0..<(groups * local)).map { Int32(($0 * 7919) % 1000) - 500 }
        let input = try CLBuffer(context: queue.context, byteCount: values.count * 4)
        let sums = try CLBuffer(context: queue.context, byteCount: groups * 4)
        try input.write(values, on: queue)
        try kernel.setArgument(0, buffer: input)
        try kernel.setArgument(1, buffer: sums)
        try kernel.setLocalArgument(2, bytes: local * 4)
        #expect(try kernel.localMemoryBytes >= UInt64(local * 4))
        try queue.enqueue(kernel, globalSize: [groups * local], localSize: [local])
        let expected = (0..<groups).map { g in values[(g * local)..<((g + 1) * local)].reduce(0, +) }
        #expect(try sums.read(Int32.self, count: groups, on: queue) == expected)
    }

    @Test func profilingQueueTimesCommands() throws {
        let queue = try RuntimeTestDevice.makeQueue(profiling: true)
        let buffer = try CLBuffer(context: queue.context, byteCount: 4096)
        let event = try buffer.fill(with: UInt32(7), on: queue)
        try queue.finish()
        let start = try event.profilingTime(.started), end = try event.profilingTime(.ended)
        #expect(try event.profilingTime(.queued) <= start)
        #expect(try event.elapsedNanoseconds == end - start)

        let plain = try RuntimeTestDevice.makeQueue(profiling: false)
        let unprofiled = try CLBuffer(context: plain.context, byteCount: 64).fill(with: UInt32(0), on: plain)
        try unprofiled.wait()
        let error = try #require(throws: OpenCLError.self) { try unprofiled.elapsedNanoseconds }
        #expect(error.statusName == "CL_PROFILING_INFO_NOT_AVAILABLE")
    }
}
