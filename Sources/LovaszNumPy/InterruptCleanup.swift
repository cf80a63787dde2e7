#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes the temporary file of an atomic write when SIGINT or SIGTERM ends the process
/// during the write, then lets the signal take its default course.
///
/// One file is armed at a time per process (writes of the command are sequential).
enum InterruptCleanup {
    /// Arms the handlers for `path` (copied into memory the handler may read).
    static func arm(removing path: String) {
        let copy = Int(bitPattern: strdup(path))
        let previous = pendingPath.exchange(copy, ordering: .sequentiallyConsistent)
        free(UnsafeMutablePointer<CChar>(bitPattern: previous))
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    /// Restores the default handlers and forgets the file.
    static func disarm() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        free(UnsafeMutablePointer<CChar>(bitPattern: pendingPath.exchange(0, ordering: .sequentiallyConsistent)))
    }

    private static let handler: @convention(c) (Int32) -> Void = { received in
        // unlink, signal and raise are async-signal-safe.
        if let path = UnsafeMutablePointer<CChar>(bitPattern: pendingPath.load(ordering: .sequentiallyConsistent)) {
            unlink(path)
        }
        signal(received, SIG_DFL)
        raise(received)
    }
}

import Synchronization

/// The address of the temporary file's path, a C string the signal handler reads without
/// locking (0: none).
private let pendingPath = Atomic<Int>(0)
