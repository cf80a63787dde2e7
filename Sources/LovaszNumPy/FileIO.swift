#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic writes on POSIX file descriptors.
enum FileIO {
    /// Reads every byte of the file at `path` (regular files, pipes and devices alike).
    ///
    /// - Throws: ``NumPyError/cannotRead(path:reason:)`` with the system's reason.
    static func readAll(path: String) throws(NumPyError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: lastErrorText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotRead(path: path, reason: lastErrorText()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .cannotRead(path: path, reason: "it is a directory") }
        var bytes = [UInt8](repeating: 0, count: max(Int(info.st_size), 0) + 1)
        var filled = 0
        while true {
            if filled == bytes.count { bytes += [UInt8](repeating: 0, count: max(bytes.count, 1 << 16)) }
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: lastErrorText())
            }
            if got == 0 { break }
            filled += got
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Writes `bytes` to `path` atomically: into a new file in the same directory, flushed to
    /// disk, then renamed over `path`. On failure the temporary file is removed and `path` is
    /// untouched.
    ///
    /// - Throws: ``NumPyError/cannotWrite(path:reason:)`` with the system's reason.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(NumPyError) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        if name.isEmpty || name == "." || name == ".." {
            throw .cannotWrite(path: path, reason: "the path names a directory, not a file")
        }
        var fd: Int32 = -1
        var temporary = ""
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporary = directory + "." + name + ".tmp-" + suffix
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: lastErrorText()) }
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = lastErrorText()
                    return
                }
                written += n
            }
        }
        if failure == nil, fsync(fd) != 0, errno != EINVAL { failure = lastErrorText() }
        if close(fd) != 0, failure == nil { failure = lastErrorText() }
        if failure == nil, rename(temporary, path) != 0 { failure = lastErrorText() }
        if let failure {
            unlink(temporary)
            throw .cannotWrite(path: path, reason: failure)
        }
    }

    static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }
}
