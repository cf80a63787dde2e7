/// The elements of a `.npy` array, in C order, in a Swift type that holds them without loss.
///
/// Floating-point files of every width are read as `Float`: float16 is widened exactly,
/// float64 is rounded to nearest (values beyond the float32 range become infinite). Integer
/// and bool files keep their type, so labels reach the engine's generic entry point as stored.
public enum NumPyElements: Sendable, Equatable {
    case float([Float])
    case bool([Bool])
    case int8([Int8])
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case uint8([UInt8])
    case uint16([UInt16])
    case uint32([UInt32])
    case uint64([UInt64])

    /// The number of elements.
    public var count: Int {
        switch self {
        case .float(let v): return v.count
        case .bool(let v): return v.count
        case .int8(let v): return v.count
        case .int16(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .uint8(let v): return v.count
        case .uint16(let v): return v.count
        case .uint32(let v): return v.count
        case .uint64(let v): return v.count
        }
    }
}

/// An n-dimensional array read from a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0).
///
/// ```swift
/// let scores = try NumPyArray(contentsOfFile: "scores.npy")
/// guard case .float(let values) = scores.elements else { … }
/// ```
///
/// The reader takes the header dictionary's keys in any order, with any spacing and trailing
/// commas; the byte orders `<`, `>` and `|`; and the dtypes bool, int8…int64, uint8…uint64 and
/// float16/32/64. It rejects, with a ``NumPyError``, Fortran-order arrays, object and other
/// dtypes, shapes whose element count does not match the data, truncated files, a bad magic
/// string and absurd header lengths, and never traps on malformed input.
public struct NumPyArray: Sendable, Equatable {
    /// The dimensions, outermost first; `[]` for a 0-d (scalar) array.
    public var shape: [Int]
    /// The dtype stored in the file (before any conversion to `Float`).
    public var dtype: NumPyDType
    /// The elements in C order; `shape.reduce(1, *)` of them.
    public var elements: NumPyElements

    /// The number of elements, `shape.reduce(1, *)`.
    public var count: Int { elements.count }

    /// The elements as `Float` when the file holds floating-point numbers, else `nil`.
    public var floats: [Float]? {
        if case .float(let values) = elements { return values }
        return nil
    }

    /// The largest header a file may declare, in bytes (1 MiB). The header of any array this
    /// reader takes is far smaller (NumPy itself refuses headers over 10 000 bytes by default);
    /// a larger length field marks a corrupt or hostile file.
    public static let maximumHeaderLength = 1 << 20

    /// Decodes the bytes of a `.npy` file.
    ///
    /// - Parameter npyBytes: the whole file.
    /// - Throws: ``NumPyError`` naming the problem for anything but a well-formed file of a
    ///   supported dtype in C order.
    public init(npyBytes: [UInt8]) throws(NumPyError) {
        self = try npyBytes.withUnsafeBufferPointer { (buffer) throws(NumPyError) in
            try NumPyDecoder.decode(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Reads a `.npy` file (see ``NumPyFile``: nothing past the declared data is read).
    ///
    /// - Parameter path: the file's path.
    /// - Throws: ``NumPyError/cannotRead(path:reason:)`` when it cannot be read,
    ///   ``NumPyError/outOfMemory(bytes:)``, otherwise as ``init(npyBytes:)``.
    public init(contentsOfFile path: String) throws(NumPyError) {
        self = try NumPyFile(path: path).read()
    }

    init(shape: [Int], dtype: NumPyDType, elements: NumPyElements) {
        self.shape = shape
        self.dtype = dtype
        self.elements = elements
    }
}
