/// Turns the bytes of a `.npy` file into a ``NumPyArray``.
enum NumPyDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(NumPyError) -> NumPyArray {
        let header = try NumPyHeader(parsing: bytes)
        let dtype = header.dtype
        let width = dtype.scalarType.byteCount
        let available = bytes.count - header.dataOffset
        let (expected, overflow) = header.count.multipliedReportingOverflow(by: width)
        guard !overflow, expected == available else {
            throw .dataSizeMismatch(
                shape: header.shape, dtype: dtype.description,
                expectedBytes: overflow ? Int.max : expected, actualBytes: available)
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset...])
        return NumPyArray(shape: header.shape, dtype: dtype, elements: try elements(data, dtype: dtype))
    }

    /// The elements of `data`, exactly `count · itemsize` bytes of `dtype`.
    ///
    /// - Throws: ``NumPyError/outOfMemory(bytes:)`` when the arrays cannot be allocated.
    static func elements(_ data: UnsafeRawBufferPointer, dtype: NumPyDType) throws(NumPyError) -> NumPyElements {
        // The decoded arrays (and the float conversions' intermediates) are at most twice the data.
        try NumPyMemory.ensureAvailable(bytes: 2 * data.count)
        let swap = dtype.byteOrder != .notApplicable && dtype.byteOrder != NumPyByteOrder.host
        let elements: NumPyElements
        switch dtype.scalarType {
        case .bool: elements = .bool(data.map { $0 != 0 })
        case .int8: elements = .int8(integers(data, swap: false))
        case .int16: elements = .int16(integers(data, swap: swap))
        case .int32: elements = .int32(integers(data, swap: swap))
        case .int64: elements = .int64(integers(data, swap: swap))
        case .uint8: elements = .uint8(integers(data, swap: false))
        case .uint16: elements = .uint16(integers(data, swap: swap))
        case .uint32: elements = .uint32(integers(data, swap: swap))
        case .uint64: elements = .uint64(integers(data, swap: swap))
        case .float16:
            let bits: [UInt16] = integers(data, swap: swap)
            elements = .float(bits.map(HalfPrecision.float(fromBits:)))
        case .float32:
            let bits: [UInt32] = integers(data, swap: swap)
            elements = .float(bits.map(Float.init(bitPattern:)))
        case .float64:
            let bits: [UInt64] = integers(data, swap: swap)
            elements = .float(bits.map { Float(Double(bitPattern: $0)) })
        }
        return elements
    }

    /// The unaligned fixed-width integers in `data`, byte-swapped when asked.
    private static func integers<T: FixedWidthInteger>(_ data: UnsafeRawBufferPointer, swap: Bool) -> [T] {
        let count = data.count / MemoryLayout<T>.size
        // An empty array is the runtime's shared empty storage: the initializer below would
        // store its count there, a write that concurrent decodes race on.
        guard count > 0 else { return [] }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: data[0..<(count * MemoryLayout<T>.size)]))
            if swap {
                for i in 0..<count { buffer[i] = buffer[i].byteSwapped }
            }
            initialized = count
        }
    }
}

/// IEEE 754 binary16, converted without the `Float16` type (unavailable on some platforms).
enum HalfPrecision {
    /// The `Float` equal to the binary16 value with these bits (exact: every binary16 value,
    /// subnormals included, is a float32 value; NaN payloads are kept).
    static func float(fromBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
        }
    }
}
