#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The command's standard error: progress, notes, skipped backends and error messages, kept
/// apart from the results on standard output.
enum StandardError {
    /// Writes `line` and a line break to stderr, unbuffered.
    ///
    /// Write errors are ignored (a closed stderr, `2>/dev/full`, a closed pipe): a note that
    /// cannot be shown must not stop the command or lose its result.
    static func print(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var written = 0
            while written < buffer.count {
                let n = write(STDERR_FILENO, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                written += n
            }
        }
    }
}

/// The standard streams of the process, made safe to use whatever state they were left in.
enum StandardStreams {
    /// Opens `/dev/null` on any of the descriptors 0, 1 and 2 that is closed, so that no file
    /// the command opens (a temporary gradient file) takes their number and receives the
    /// output: stdin and stdout read-only (writing to stdout then fails, reported by
    /// ``flushOutput()``), stderr write-only (notes are discarded).
    static func reopenClosed() {
        for (descriptor, flags) in [(STDIN_FILENO, O_RDONLY), (STDOUT_FILENO, O_RDONLY), (STDERR_FILENO, O_WRONLY)] {
            guard fcntl(descriptor, F_GETFD) == -1 && errno == EBADF else { continue }
            let opened = open("/dev/null", flags)
            if opened >= 0 && opened != descriptor {
                dup2(opened, descriptor)
                close(opened)
            }
        }
    }

    /// Flushes stdout and reports whether everything printed reached it.
    ///
    /// - Returns: `nil`, or why the output was lost (a closed stdout, `>/dev/full`, a closed
    ///   pipe: SIGPIPE is ignored, so the write fails with EPIPE instead of killing the process).
    static func flushOutput() -> String? {
        errno = 0
        // Every output stream: stdout is the only one the command writes through stdio.
        if fflush(nil) != 0 {
            let reason = errno == 0 ? "write error" : String(cString: strerror(errno))
            return "cannot write the result to standard output: \(reason)"
        }
        return nil
    }
}
