/// Writes arrays as NumPy `.npy` files: float32 or float16, little-endian, C order, format
/// version 1.0, byte for byte as `numpy.save` writes them.
public enum NumPyWriter {
    /// The bytes of a `.npy` file holding `values` with `shape`.
    ///
    /// - Parameters:
    ///   - values: the elements in C order, `shape.reduce(1, *)` of them.
    ///   - shape: the dimensions, each `≥ 0`; `[]` for a scalar.
    /// - Throws: ``NumPyError/invalidShape(_:)`` when a dimension is negative, the element
    ///   count overflows or differs from `values.count`; ``NumPyError/outOfMemory(bytes:)``.
    public static func float32Bytes(_ values: [Float], shape: [Int]) throws(NumPyError) -> [UInt8] {
        try validate(count: values.count, shape: shape)
        let preamble = try NumPyHeader.float32Preamble(shape: shape)
        let total = preamble.count + values.count * 4
        try NumPyMemory.ensureAvailable(bytes: total)
        // One allocation of the final size: no temporary copy of the data.
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            _ = buffer.initialize(from: preamble)
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (i, value) in values.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: preamble.count + 4 * i, as: UInt32.self)
            }
            initialized = total
        }
        return bytes
    }

    /// Writes `values` with `shape` to a float32 `.npy` file as ``FileOutput`` describes: a
    /// regular file is replaced atomically, only once the new one is complete, and no partial
    /// file is ever left; symbolic links are followed; character devices and FIFOs are
    /// written through.
    ///
    /// - Parameters:
    ///   - values: the elements in C order, `shape.reduce(1, *)` of them.
    ///   - shape: the dimensions, each `≥ 0`; `[]` for a scalar.
    ///   - path: the file to create or replace; its directory must exist and be writable.
    /// - Throws: ``NumPyError/invalidShape(_:)`` as ``float32Bytes(_:shape:)``, and
    ///   ``NumPyError/cannotWrite(path:reason:)`` when the file cannot be written.
    public static func writeFloat32(_ values: [Float], shape: [Int], toFile path: String) throws(NumPyError) {
        try FileOutput(path: path).write(try float32Bytes(values, shape: shape))
    }

    /// The bytes of a float16 (`<f2`) `.npy` file holding the binary16 values whose bit
    /// patterns are `bits`, with `shape`.
    ///
    /// - Throws: as ``float32Bytes(_:shape:)``.
    public static func float16Bytes(bits: [UInt16], shape: [Int]) throws(NumPyError) -> [UInt8] {
        try validate(count: bits.count, shape: shape)
        var bytes = try NumPyHeader.preamble(descr: "<f2", shape: shape)
        bytes.reserveCapacity(bytes.count + 2 * bits.count)
        for value in bits { bytes += [UInt8(value & 0xFF), UInt8(value >> 8)] }
        return bytes
    }

    /// Writes the binary16 values whose bit patterns are `bits` to a float16 `.npy` file,
    /// atomically, as ``writeFloat32(_:shape:toFile:)``.
    ///
    /// - Throws: as ``writeFloat32(_:shape:toFile:)``.
    public static func writeFloat16(bits: [UInt16], shape: [Int], toFile path: String) throws(NumPyError) {
        try FileOutput(path: path).write(try float16Bytes(bits: bits, shape: shape))
    }

    private static func validate(count: Int, shape: [Int]) throws(NumPyError) {
        var product = 1
        for size in shape {
            guard size >= 0 else { throw .invalidShape("negative dimension \(size)") }
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            guard !overflow else { throw .invalidShape("the shape holds more elements than can be addressed") }
            product = next
        }
        guard product == count else {
            throw .invalidShape("\(count) values for the shape \(shape.bracketed), which holds \(product)")
        }
    }
}
