import Testing
@testable import Lovasz

/// A caller's OpenCL objects, as training code would hold them: its own context and queue on
/// the first usable device, and buffers that only the device may touch.
final class CallerQueue: @unchecked Sendable {
    // @unchecked Sendable: each test uses one CallerQueue from one thread at a time.
    let context: CLContext
    let queue: CLCommandQueue

    init() throws {
        let device = try #require(OpenCLDiscovery.system.selectDevice(for: .opencl).device)
        context = try CLContext(device: device)
        queue = try CLCommandQueue(context: context)
    }

    var handle: OpaquePointer { queue.handle }

    /// A `CL_MEM_HOST_NO_ACCESS` buffer holding `values` at `byteOffset` (filled on the device
    /// from a host-accessible staging buffer, since the host may not write it).
    func deviceBuffer<T: BitwiseCopyable>(_ values: [T], byteOffset: Int = 0, extraBytes: Int = 64) throws -> CLBuffer {
        let bytes = values.count * MemoryLayout<T>.stride
        let buffer = try CLBuffer(context: context, byteCount: byteOffset + bytes + extraBytes, hostAccess: false)
        if bytes > 0 {
            let staging = try CLBuffer(context: context, byteCount: bytes)
            try staging.write(values, on: queue)
            try buffer.copy(from: staging, toByteOffset: byteOffset, byteCount: bytes, on: queue)
            try queue.finish()
        }
        return buffer
    }

    /// `count` floats at `byteOffset` of a host-no-access buffer, copied out on the device.
    func floats(of buffer: CLBuffer, byteOffset: Int, count: Int) throws -> [Float] {
        let staging = try CLBuffer(context: context, byteCount: count * 4)
        try staging.copy(from: buffer, sourceByteOffset: byteOffset, byteCount: count * 4, on: queue)
        return try staging.read(Float.self, count: count, on: queue)
    }

    /// The device's `CL_DEVICE_MEM_BASE_ADDR_ALIGN` in bytes.
    var alignment: Int { get throws { try CLExternal.baseAddressAlignment(of: context) } }
}

/// `values` described as a caller's device buffer range.
func range(_ buffer: CLBuffer, byteOffset: Int = 0, count: Int, _ type: DeviceElementType) -> OpenCLDeviceBuffer {
    OpenCLDeviceBuffer(memory: buffer.handle, byteOffset: byteOffset, count: count, elementType: type)
}
