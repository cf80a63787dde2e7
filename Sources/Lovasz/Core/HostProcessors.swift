#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The host's processors, for sizing thread pools.
enum HostProcessors {
    /// The processors online now (`_SC_NPROCESSORS_ONLN`), at least 1.
    static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
