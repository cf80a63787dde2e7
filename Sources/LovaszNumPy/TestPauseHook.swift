#if DEBUG
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A test hook, compiled into debug builds only: when the environment variable
/// `LOVASZ_TEST_PAUSE_AFTER_TEMPORARY` is set, an atomic write pauses after its temporary file
/// is created and filled, announcing it on stderr with the line
/// `lovasz-test: paused after temporary <path>`, so that a test can send SIGINT or SIGTERM at
/// that exact point. The pause ends after at most 30 seconds (a forgotten signal never hangs).
enum TestPauseHook {
    static let variable = "LOVASZ_TEST_PAUSE_AFTER_TEMPORARY"

    /// Pauses as described above if the variable is set; returns at once otherwise.
    static func pauseAfterCreating(temporary path: String) {
        guard getenv(variable) != nil else { return }
        let line = Array("lovasz-test: paused after temporary \(path)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count) }
        for _ in 0..<300 { usleep(100_000) }
    }
}
#endif
