#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's reason for the last failed call, for the messages of ``NumPyFile`` and ``FileOutput``.
enum FileIO {
    static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }
}
