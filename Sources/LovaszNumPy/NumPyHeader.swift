/// The preamble and header dictionary of a `.npy` file.
///
/// Layout (NEP 1): the magic `\x93NUMPY`, a major and a minor version byte, the header length
/// (little-endian `UInt16` in version 1.0, `UInt32` in 2.0 and 3.0), then the header: a Python
/// dictionary literal with the keys `descr`, `fortran_order` and `shape` (Latin-1 text before
/// 3.0, UTF-8 in 3.0), padded with spaces and ended by a newline. The data follows.
struct NumPyHeader: Equatable {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    var dtype: NumPyDType
    var shape: [Int]
    /// The number of elements, `shape.reduce(1, *)`, checked for overflow.
    var count: Int
    /// Where the data starts in the file.
    var dataOffset: Int

    /// Parses the preamble and header at the start of `bytes`.
    ///
    /// - Throws: ``NumPyError`` for a bad magic string or version, a truncated preamble or
    ///   header, an absurd header length, a malformed dictionary, an unsupported dtype or
    ///   Fortran order.
    init(parsing bytes: UnsafeRawBufferPointer) throws(NumPyError) {
        let magic = Self.magic
        let prefix = min(bytes.count, magic.count)
        for i in 0..<prefix where bytes[i] != magic[i] { throw .notNumPy }
        if bytes.isEmpty { throw .truncated("the file is empty") }
        if bytes.count < magic.count + 2 {
            throw .truncated("the file ends after \(bytes.count) bytes, inside the magic string and version")
        }
        let major = bytes[6], minor = bytes[7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default: throw .unsupportedVersion(major: major, minor: minor)
        }
        let headerStart = 8 + lengthBytes
        guard bytes.count >= headerStart else {
            throw .truncated("the file ends after \(bytes.count) bytes, inside the header length")
        }
        var length = 0
        for i in (0..<lengthBytes).reversed() { length = length << 8 | Int(bytes[8 + i]) }
        guard length <= NumPyArray.maximumHeaderLength else {
            throw .headerTooLong(length: length, limit: NumPyArray.maximumHeaderLength)
        }
        guard bytes.count - headerStart >= length else {
            throw .truncated("the header is \(length) bytes long but the file ends after \(bytes.count - headerStart) of them")
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<(headerStart + length)])
        try self.init(dictionary: PythonLiteral.parse(text))
        self.dataOffset = headerStart + length
    }

    /// Interprets the header dictionary.
    private init(dictionary literal: PythonLiteral) throws(NumPyError) {
        guard case .dictionary(let entries) = literal else {
            throw .malformedHeader("the header is \(literal.kindName), not a dictionary")
        }
        var descr: PythonLiteral?, fortran: PythonLiteral?, shape: PythonLiteral?
        for entry in entries {
            guard case .string(let key) = entry.key else {
                throw .malformedHeader("a key of the dictionary is \(entry.key.kindName), not a string")
            }
            switch key {
            case "descr" where descr == nil: descr = entry.value
            case "fortran_order" where fortran == nil: fortran = entry.value
            case "shape" where shape == nil: shape = entry.value
            case "descr", "fortran_order", "shape": throw .malformedHeader("the key '\(key)' appears twice")
            default: throw .malformedHeader("unexpected key '\(key)' (expected 'descr', 'fortran_order' and 'shape')")
            }
        }
        guard let descr else { throw .malformedHeader("the key 'descr' is missing") }
        guard let fortran else { throw .malformedHeader("the key 'fortran_order' is missing") }
        guard let shape else { throw .malformedHeader("the key 'shape' is missing") }

        switch descr {
        case .string(let text): self.dtype = try NumPyDType(descr: text)
        case .list: throw .unsupportedDType("structured arrays (a list of fields) cannot be read")
        default: throw .malformedHeader("'descr' is \(descr.kindName), not a dtype string")
        }
        guard case .boolean(let isFortran) = fortran else {
            throw .malformedHeader("'fortran_order' is \(fortran.kindName), not True or False")
        }
        if isFortran { throw .fortranOrder }
        guard case .tuple(let dimensions) = shape else {
            throw .malformedHeader("'shape' is \(shape.kindName), not a tuple of integers")
        }
        var sizes: [Int] = []
        var count = 1
        for dimension in dimensions {
            guard case .integer(let size) = dimension else {
                throw .malformedHeader("the shape holds \(dimension.kindName), not only integers")
            }
            guard size >= 0 else { throw .malformedHeader("the shape holds the negative size \(size)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw .malformedHeader("the shape holds more elements than can be addressed") }
            count = product
            sizes.append(size)
        }
        self.shape = sizes
        self.count = count
        self.dataOffset = 0
    }

    /// The header of a little-endian float32 C-order array, version 1.0, padded with spaces
    /// so that the data starts at a multiple of 64 bytes, as NumPy writes it.
    ///
    /// - Throws: ``NumPyError/invalidShape(_:)`` when the header would not fit version 1.0.
    static func float32Preamble(shape: [Int]) throws(NumPyError) -> [UInt8] {
        try preamble(descr: "<f4", shape: shape)
    }

    /// The magic, version and header of a little-endian C-order file of `descr` (`<f2`, `<f4`).
    static func preamble(descr: String, shape: [Int]) throws(NumPyError) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ")
        let tuple = shape.count == 1 ? "(\(dims),)" : "(\(dims))"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }".utf8)
        let unpadded = magic.count + 4 + header.count + 1
        header += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64)
        header.append(0x0A)
        guard header.count <= Int(UInt16.max) else {
            throw .invalidShape("\(shape.count) dimensions do not fit a version 1.0 header")
        }
        return magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
    }
}
