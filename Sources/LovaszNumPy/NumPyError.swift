/// An error reading or writing a NumPy `.npy` file.
///
/// Every case renders as one line naming the problem (``description``), suitable for a
/// command-line message; the command line prefixes it with the file's name.
public enum NumPyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read; `reason` is the system's explanation.
    case cannotRead(path: String, reason: String)
    /// The file could not be written; `reason` is the system's explanation. Nothing is left
    /// at `path` (an existing file there is unchanged).
    case cannotWrite(path: String, reason: String)
    /// The bytes do not start with the `.npy` magic string `\x93NUMPY`.
    case notNumPy
    /// The format version is not 1.0, 2.0 or 3.0.
    case unsupportedVersion(major: UInt8, minor: UInt8)
    /// The file ends inside the preamble or the header; the text says where.
    case truncated(String)
    /// The header length field claims more bytes than any real header needs.
    case headerTooLong(length: Int, limit: Int)
    /// The header is not a dictionary with `descr`, `fortran_order` and `shape`, or one of
    /// them has a value of the wrong kind; the text says which.
    case malformedHeader(String)
    /// The dtype is valid NumPy but not one this reader takes (object, string, complex,
    /// structured, datetime…); the text names it.
    case unsupportedDType(String)
    /// The array is stored in Fortran (column-major) order.
    case fortranOrder
    /// The data after the header is not `count · itemsize` bytes long.
    case dataSizeMismatch(shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    /// A shape given to the writer is negative, too large, or does not match the values.
    case invalidShape(String)
    /// The memory for the array (`bytes` bytes) could not be allocated.
    case outOfMemory(bytes: Int)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason):
            return "cannot read '\(path)': \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        case .notNumPy:
            return "not a NumPy .npy file (it does not start with the magic string \\x93NUMPY)"
        case .unsupportedVersion(let major, let minor):
            return "unsupported .npy format version \(major).\(minor) (versions 1.0, 2.0 and 3.0 are read)"
        case .truncated(let message):
            return "truncated .npy file: \(message)"
        case .headerTooLong(let length, let limit):
            return "the .npy header claims \(length) bytes; at most \(limit) are accepted"
        case .malformedHeader(let message):
            return "malformed .npy header: \(message)"
        case .unsupportedDType(let message):
            return "unsupported dtype: \(message)"
        case .fortranOrder:
            return "the array is in Fortran (column-major) order; save a C-order array (numpy.ascontiguousarray)"
        case .dataSizeMismatch(let shape, let dtype, let expected, let actual):
            let problem = actual < expected ? "the data is truncated" : "\(actual - expected) bytes follow the data"
            return "\(problem): shape \(shape.bracketed) of \(dtype) needs \(expected) data bytes, the file holds \(actual)"
        case .invalidShape(let message):
            return "invalid shape: \(message)"
        case .outOfMemory(let bytes):
            let tenths = (Double(bytes) / Double(1 << 20) * 10).rounded()
            return "out of memory: cannot allocate \(bytes) bytes (\(Int(tenths) / 10).\(Int(tenths) % 10) MiB)"
        }
    }
}
