#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `.npy` file opened and its header read and checked, its data not yet read.
///
/// Reading stops at the first bytes that cannot start a `.npy` file (`/dev/zero`,
/// `/dev/urandom`, any other file), never goes past the header and the data it declares (an
/// endless FIFO or device), and for a regular file compares the declared size with the
/// file's size before anything is allocated (a huge sparse file is refused or, when
/// consistent, fails with ``NumPyError/outOfMemory(bytes:)`` instead of ending the process).
/// Open every input first, check their headers against each other, then ``read()``.
public final class NumPyFile {
    /// The path as given.
    public let path: String
    /// The dimensions declared by the header.
    public var shape: [Int] { header.shape }
    /// The dtype declared by the header.
    public var dtype: NumPyDType { header.dtype }
    /// The number of data bytes the header declares.
    public let dataBytes: Int

    let header: NumPyHeader
    private let descriptor: Int32

    /// Opens `path` and reads its header.
    ///
    /// - Throws: ``NumPyError/cannotRead(path:reason:)`` when the file cannot be opened or
    ///   read, ``NumPyError/dataSizeMismatch(shape:dtype:expectedBytes:actualBytes:)`` when a
    ///   regular file's size differs from what the header declares, and the header errors of
    ///   ``NumPyArray/init(npyBytes:)``.
    public init(path: String) throws(NumPyError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: FileIO.lastErrorText()) }
        var ownsDescriptor = true
        defer { if ownsDescriptor { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotRead(path: path, reason: FileIO.lastErrorText()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .cannotRead(path: path, reason: "it is a directory") }

        // Magic and version, then the length field, then the header: each read only once the
        // bytes before it are known to be right.
        var preamble = try Self.read(fd, upTo: 8, path: path)
        let magic = NumPyHeader.magic
        for i in 0..<min(preamble.count, magic.count) where preamble[i] != magic[i] { throw .notNumPy }
        if preamble.count == 8 {
            let lengthBytes: Int
            switch (preamble[6], preamble[7]) {
            case (1, 0): lengthBytes = 2
            case (2, 0), (3, 0): lengthBytes = 4
            default: throw .unsupportedVersion(major: preamble[6], minor: preamble[7])
            }
            preamble += try Self.read(fd, upTo: lengthBytes, path: path)
            if preamble.count == 8 + lengthBytes {
                var length = 0
                for i in (0..<lengthBytes).reversed() { length = length << 8 | Int(preamble[8 + i]) }
                if length <= NumPyArray.maximumHeaderLength {
                    preamble += try Self.read(fd, upTo: length, path: path)
                }
            }
        }
        // The parser reports what is missing or wrong in the bytes read.
        let header = try preamble.withUnsafeBufferPointer { (bytes) throws(NumPyError) in
            try NumPyHeader(parsing: UnsafeRawBufferPointer(bytes))
        }
        let (expected, overflow) = header.count.multipliedReportingOverflow(by: header.dtype.scalarType.byteCount)
        if overflow {
            throw .dataSizeMismatch(shape: header.shape, dtype: header.dtype.description, expectedBytes: Int.max, actualBytes: -1)
        }
        if (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) - header.dataOffset != expected {
            throw .dataSizeMismatch(
                shape: header.shape, dtype: header.dtype.description,
                expectedBytes: expected, actualBytes: Int(info.st_size) - header.dataOffset)
        }
        self.header = header
        self.dataBytes = expected
        self.descriptor = fd
        ownsDescriptor = false
    }

    deinit { close(descriptor) }

    /// Reads the data the header declares, and no byte more.
    ///
    /// - Throws: ``NumPyError/outOfMemory(bytes:)`` when the data does not fit in memory,
    ///   ``NumPyError/dataSizeMismatch(shape:dtype:expectedBytes:actualBytes:)`` when the
    ///   file ends early, ``NumPyError/cannotRead(path:reason:)``.
    public func read() throws(NumPyError) -> NumPyArray {
        guard let raw = malloc(max(dataBytes, 1)) else { throw .outOfMemory(bytes: dataBytes) }
        defer { free(raw) }
        var filled = 0
        while filled < dataBytes {
            let got = Glibc.read(descriptor, raw + filled, min(dataBytes - filled, 1 << 24))
            if got < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: FileIO.lastErrorText())
            }
            if got == 0 {
                throw .dataSizeMismatch(
                    shape: header.shape, dtype: header.dtype.description, expectedBytes: dataBytes, actualBytes: filled)
            }
            filled += got
        }
        let elements = try NumPyDecoder.elements(UnsafeRawBufferPointer(start: raw, count: dataBytes), dtype: header.dtype)
        return NumPyArray(shape: header.shape, dtype: header.dtype, elements: elements)
    }

    /// Up to `count` bytes: fewer only at the end of the file.
    private static func read(_ fd: Int32, upTo count: Int, path: String) throws(NumPyError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if got < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: FileIO.lastErrorText())
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[0..<filled])
    }
}

/// Memory checks for the arrays the reader and the writer create (Swift arrays trap when
/// their allocation fails; these report ``NumPyError/outOfMemory(bytes:)`` instead).
enum NumPyMemory {
    /// Checks that `bytes` can be allocated now (allocated and released at once); sizes under
    /// 1 MiB are not checked.
    static func ensureAvailable(bytes: Int) throws(NumPyError) {
        guard bytes >= 1 << 20 else { return }
        guard let probe = malloc(bytes) else { throw .outOfMemory(bytes: bytes) }
        free(probe)
    }
}
