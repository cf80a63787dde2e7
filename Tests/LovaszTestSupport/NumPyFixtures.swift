package import Lovasz
public import Foundation

/// Writes `.npy` files for tests, independently of the library's reader and writer: any
/// dtype, byte order, format version and header text, from plain byte arithmetic.
public enum NumPyFixtures {
    /// A `.npy` file from its parts.
    ///
    /// - Parameters:
    ///   - header: the header dictionary text exactly as it should appear (no padding added
    ///     unless `pad` is set).
    ///   - data: the bytes after the header.
    ///   - version: 1, 2 or 3 (any byte is written as given).
    ///   - pad: pads the header with spaces and a newline so the data starts at a multiple of 64.
    public static func file(header: String, data: [UInt8], version: UInt8 = 1, pad: Bool = true) -> [UInt8] {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        let lengthBytes = version == 1 ? 2 : 4
        var text = Array(header.utf8)
        if pad {
            let preamble = magic.count + 2 + lengthBytes
            while (preamble + text.count + 1) % 64 != 0 { text.append(0x20) }
            text.append(0x0A)
        }
        var length: [UInt8] = []
        for i in 0..<lengthBytes { length.append(UInt8(truncatingIfNeeded: text.count >> (8 * i))) }
        return magic + [version, 0] + length + text + data
    }

    /// The header NumPy writes for `descr` and `shape`, in NumPy's key order.
    public static func header(descr: String, shape: [Int], fortranOrder: Bool = false) -> String {
        let dims = shape.map(String.init).joined(separator: ", ")
        let tuple = shape.count == 1 ? "(\(dims),)" : "(\(dims))"
        return "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(tuple), }"
    }

    /// The bytes of integers, least or most significant byte first.
    public static func bytes<T: FixedWidthInteger>(_ values: [T], bigEndian: Bool = false) -> [UInt8] {
        let width = T.bitWidth / 8
        var out: [UInt8] = []
        out.reserveCapacity(values.count * width)
        for value in values {
            let bits = UInt64(truncatingIfNeeded: value)
            for i in 0..<width {
                let shift = bigEndian ? 8 * (width - 1 - i) : 8 * i
                out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
            }
        }
        return out
    }

    /// A float32 `.npy` file (`<f4` or `>f4`).
    public static func float32(_ values: [Float], shape: [Int], bigEndian: Bool = false, version: UInt8 = 1) -> [UInt8] {
        file(
            header: header(descr: bigEndian ? ">f4" : "<f4", shape: shape),
            data: bytes(values.map(\.bitPattern), bigEndian: bigEndian), version: version)
    }

    /// A float64 `.npy` file (`<f8`).
    public static func float64(_ values: [Double], shape: [Int]) -> [UInt8] {
        file(header: header(descr: "<f8", shape: shape), data: bytes(values.map(\.bitPattern)))
    }

    /// An integer `.npy` file of `T`'s own dtype (`<i8`, `|u1`, …).
    public static func integers<T: FixedWidthInteger>(_ values: [T], shape: [Int], bigEndian: Bool = false) -> [UInt8] {
        let width = T.bitWidth / 8
        let order = width == 1 ? "|" : (bigEndian ? ">" : "<")
        let descr = order + (T.isSigned ? "i" : "u") + String(width)
        return file(header: header(descr: descr, shape: shape), data: bytes(values, bigEndian: bigEndian))
    }

    /// A bool `.npy` file (`|b1`).
    public static func booleans(_ values: [Bool], shape: [Int]) -> [UInt8] {
        file(header: header(descr: "|b1", shape: shape), data: values.map { $0 ? 1 : 0 })
    }

    /// The value of IEEE binary16 `bits`, from the definition `(-1)^s · 2^(e-15) · (1 + m/1024)`
    /// (`2^-14 · m/1024` for subnormals), in Double.
    public static func halfValue(bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let e = Int((bits >> 10) & 0x1F), m = Double(bits & 0x3FF)
        if e == 0x1F { return m == 0 ? sign * .infinity : .nan }
        if e == 0 { return sign * pow(2, -14) * (m / 1024) }
        return sign * pow(2, Double(e - 15)) * (1 + m / 1024)
    }

    /// A new, empty temporary directory (removed by the caller with `removeDirectory`).
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lovasz-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `bytes` to `name` in `directory` and returns its path.
    @discardableResult
    public static func write(_ bytes: [UInt8], named name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// The names in `directory`, sorted.
    public static func contents(of directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    /// A small deterministic random number generator for reproducible tests.
    package typealias SeededGenerator = SplitMix64
}
