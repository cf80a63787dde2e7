#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the bytes written to a path go, decided before any work is done.
///
/// - A regular file, or a path where nothing exists yet, is replaced atomically: the bytes go
///   into a new file in the same directory, flushed, then renamed over the path. An existing
///   file keeps its permission bits. On failure, or when SIGINT or SIGTERM arrives during the
///   write, the temporary file is removed and the path is untouched.
/// - A symbolic link is followed (through every link in a chain): the link stays and its
///   target receives the file, under the rules here.
/// - A character device (`/dev/null`, a terminal) or a FIFO is written through: opened
///   without truncation and written in place, never replaced. A FIFO without a reader fails
///   at once rather than blocking.
/// - A directory, a block device or a socket is refused.
public struct FileOutput: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Replaced atomically; the permission bits of the file it replaces, if any.
        case replace(existingMode: UInt32?)
        /// Written in place (a character device or a FIFO).
        case writeThrough
    }

    /// The path as given.
    public let path: String
    /// The path the bytes go to, symbolic links resolved.
    public let target: String
    public let kind: Kind

    /// Resolves `path` and checks that it can be written, without writing or creating anything.
    ///
    /// - Throws: ``NumPyError/cannotWrite(path:reason:)`` for a directory, a block device, a
    ///   socket, a missing directory, a link loop, or a file or directory without write permission.
    public init(path: String) throws(NumPyError) {
        self.path = path
        var target = path
        var info = stat()
        var hops = 0
        while lstat(target, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK {
            hops += 1
            guard hops <= 40, let link = Self.readLink(target) else {
                throw .cannotWrite(path: path, reason: hops > 40 ? "too many levels of symbolic links" : FileIO.lastErrorText())
            }
            target = link.hasPrefix("/") ? link : Self.directory(of: target) + link
        }
        self.target = target
        let exists = lstat(target, &info) == 0
        let name = target.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? target
        if (exists && (info.st_mode & S_IFMT) == S_IFDIR) || name.isEmpty || name == "." || name == ".." {
            throw .cannotWrite(path: path, reason: "it is a directory")
        }
        guard exists else {
            let directory = Self.directory(of: target)
            let parent = directory.isEmpty ? "." : directory
            var parentInfo = stat()
            guard stat(parent, &parentInfo) == 0, (parentInfo.st_mode & S_IFMT) == S_IFDIR else {
                throw .cannotWrite(path: path, reason: "the directory '\(parent)' does not exist")
            }
            guard access(parent, W_OK) == 0 else { throw .cannotWrite(path: path, reason: FileIO.lastErrorText()) }
            kind = .replace(existingMode: nil)
            return
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            guard access(Self.directory(of: target).isEmpty ? "." : Self.directory(of: target), W_OK) == 0 else {
                throw .cannotWrite(path: path, reason: FileIO.lastErrorText())
            }
            kind = .replace(existingMode: UInt32(info.st_mode & 0o7777))
        case S_IFCHR, S_IFIFO:
            guard access(target, W_OK) == 0 else { throw .cannotWrite(path: path, reason: FileIO.lastErrorText()) }
            kind = .writeThrough
        case S_IFBLK:
            throw .cannotWrite(path: path, reason: "it is a block device; refusing to write over it")
        default:
            throw .cannotWrite(path: path, reason: "it is a socket or another special file")
        }
    }

    /// Writes `bytes` as described by ``kind``.
    ///
    /// - Throws: ``NumPyError/cannotWrite(path:reason:)`` with the system's reason.
    public func write(_ bytes: [UInt8]) throws(NumPyError) {
        switch kind {
        case .writeThrough:
            let fd = open(target, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                throw .cannotWrite(path: path, reason: errno == ENXIO ? "no process reads the FIFO" : FileIO.lastErrorText())
            }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            if let failure = Self.writeAll(bytes, to: fd) { throw .cannotWrite(path: path, reason: failure) }
        case .replace(let mode):
            try replace(with: bytes, mode: mode)
        }
    }

    private func replace(with bytes: [UInt8], mode: UInt32?) throws(NumPyError) {
        let directory = Self.directory(of: target)
        let name = String(target.dropFirst(directory.count))
        var fd: Int32 = -1
        var temporary = ""
        for _ in 0..<16 {
            temporary = directory + "." + name + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            InterruptCleanup.arm(removing: temporary)
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        defer { InterruptCleanup.disarm() }
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: FileIO.lastErrorText()) }
        var failure = Self.writeAll(bytes, to: fd)
        #if DEBUG
        TestPauseHook.pauseAfterCreating(temporary: temporary)
        #endif
        if failure == nil, let mode, fchmod(fd, mode_t(mode)) != 0 { failure = FileIO.lastErrorText() }
        if failure == nil, fsync(fd) != 0, errno != EINVAL { failure = FileIO.lastErrorText() }
        if close(fd) != 0, failure == nil { failure = FileIO.lastErrorText() }
        if failure == nil, rename(temporary, target) != 0 { failure = FileIO.lastErrorText() }
        if let failure {
            unlink(temporary)
            throw .cannotWrite(path: path, reason: failure)
        }
    }

    /// Writes every byte, retrying after interruptions; the system's reason on failure.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> String? {
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return FileIO.lastErrorText()
                }
                written += n
            }
            return nil
        }
    }

    /// The directory part of `path` with its trailing slash (`""` for a bare name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
