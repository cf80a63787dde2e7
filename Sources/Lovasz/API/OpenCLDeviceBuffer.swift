/// The element type of a caller's device buffer.
public enum DeviceElementType: String, Sendable, Hashable, CaseIterable {
    /// 32-bit IEEE floats: scores and gradients.
    case float32
    /// IEEE 754 binary16: scores (widened to float32 on the device, exactly), and gradients
    /// of such scores (rounded once from float32).
    case float16
    /// bfloat16 (the high 16 bits of a binary32): scores and their gradients, as ``float16``.
    case bfloat16
    /// Unsigned bytes: labels (for example with ignore index 255).
    case uint8
    /// 32-bit signed integers: labels.
    case int32
    /// 64-bit signed integers: labels (PyTorch's default).
    case int64

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .uint8: 1
        case .float16, .bfloat16: 2
        case .float32, .int32: 4
        case .int64: 8
        }
    }

    /// The score type of a floating-point element type; `nil` for integers.
    var scoreType: ScoreType? {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .bfloat16: .bfloat16
        case .uint8, .int32, .int64: nil
        }
    }
}

/// A range of a caller's OpenCL buffer: the `cl_mem` handle, where the elements start and
/// how many there are, and their type.
///
/// The library never copies such a buffer to the host: kernels read and write it in place
/// on the caller's command queue. The handle is retained while a call uses it.
public struct OpenCLDeviceBuffer {
    /// The `cl_mem` handle of a buffer (not an image) of the engine's context.
    public var memory: OpaquePointer?
    /// The byte offset of the first element; a multiple of the element size. For scores and
    /// gradients at a nonzero offset, a multiple of the device's `CL_DEVICE_MEM_BASE_ADDR_ALIGN`
    /// (in bytes; 128 on most devices), since they are read through a sub-buffer.
    public var byteOffset: Int
    /// The number of elements (the scores', labels' or gradient's element count).
    public var count: Int
    /// The element type: float32, float16 or bfloat16 for scores; float32 or the scores' type
    /// for gradients; uint8, int32 or int64 for labels.
    public var elementType: DeviceElementType

    /// Describes `count` elements of `elementType` at `byteOffset` bytes of the buffer `memory`.
    public init(memory: OpaquePointer?, byteOffset: Int = 0, count: Int, elementType: DeviceElementType) {
        self.memory = memory
        self.byteOffset = byteOffset
        self.count = count
        self.elementType = elementType
    }
}

/// Label element types the planning kernels read.
enum LabelElementType: Sendable, Hashable {
    case uint8, int32, int64

    var byteCount: Int {
        switch self {
        case .uint8: 1
        case .int32: 4
        case .int64: 8
        }
    }

    /// `value` when a label of this type can equal it (an ignore index of 255 never matches
    /// int8 labels; -1 never matches uint8 labels), as the host path decides it.
    func representable(_ value: Int) -> Int? {
        switch self {
        case .uint8: UInt8(exactly: value).map(Int.init)
        case .int32: Int32(exactly: value).map(Int.init)
        case .int64: Int64(exactly: value).map(Int.init)
        }
    }

    /// One label's bytes (little-endian, as the device wrote them) in decimal.
    func decimal(_ bytes: [UInt8]) -> String {
        var raw: UInt64 = 0
        for (i, byte) in bytes.prefix(byteCount).enumerated() { raw |= UInt64(byte) << (8 * UInt64(i)) }
        switch self {
        case .uint8: return String(UInt8(truncatingIfNeeded: raw))
        case .int32: return String(Int32(truncatingIfNeeded: raw))
        case .int64: return String(Int64(bitPattern: raw))
        }
    }
}
