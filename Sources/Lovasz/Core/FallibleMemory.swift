#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Large allocations that report exhaustion as ``LovaszError/outOfMemory(bytes:)`` instead of
/// ending the process, as Swift's allocator does.
///
/// Every buffer whose size grows with the input goes through here: the caller gets an error
/// it can report, and the process (a training loop, a Python interpreter) stays usable.
/// Small fixed-size allocations are left to the runtime.
package enum FallibleMemory {
    /// Allocations of at least this many bytes (1 MiB) are checked.
    static let checkedBytes = 1 << 20

    /// Uninitialized memory for `count` elements of `T`, released with `deallocate()`.
    ///
    /// - Parameter count: at least 0 (0 gives a 1-element allocation).
    /// - Throws: ``LovaszError/outOfMemory(bytes:)`` when the size overflows or the system has
    ///   no memory for it.
    static func allocate<T>(_ type: T.Type, count: Int) throws(LovaszError) -> UnsafeMutableBufferPointer<T> {
        let bytes = try byteCount(T.self, count: count)
        let alignment = max(MemoryLayout<T>.alignment, 64)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, max(bytes, alignment)) == 0, let raw else {
            throw .outOfMemory(bytes: bytes)
        }
        return UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: max(count, 1)), count: max(count, 1))
    }

    /// Checks that `bytes` can be allocated now, for containers (Swift arrays) whose own
    /// allocation would trap: the memory is allocated and released at once.
    ///
    /// Sizes below ``checkedBytes`` are not checked. The check is exact for an address-space
    /// limit (`ulimit -v`) and for overcommit refusals, the exhaustion a process meets in
    /// practice; memory taken by another thread between the check and the allocation is not.
    ///
    /// - Throws: ``LovaszError/outOfMemory(bytes:)`` when the memory is not available.
    package static func ensureAvailable(bytes: Int) throws(LovaszError) {
        guard bytes >= checkedBytes else { return }
        guard let probe = malloc(bytes) else { throw .outOfMemory(bytes: bytes) }
        free(probe)
    }

    /// The size of `count` elements of `T`, or ``LovaszError/outOfMemory(bytes:)`` (with
    /// `Int.max`) when it does not fit an `Int`.
    static func byteCount<T>(_ type: T.Type, count: Int) throws(LovaszError) -> Int {
        let (bytes, overflow) = max(count, 0).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow else { throw .outOfMemory(bytes: Int.max) }
        return bytes
    }
}

extension Array {
    /// An array of `count` copies of `value`, or ``LovaszError/outOfMemory(bytes:)`` instead of
    /// a trap when its memory is not available (see ``FallibleMemory/ensureAvailable(bytes:)``).
    ///
    /// - Parameter count: at least 0.
    package init(fallibleRepeating value: Element, count: Int) throws(LovaszError) {
        try FallibleMemory.ensureAvailable(bytes: try FallibleMemory.byteCount(Element.self, count: count))
        self.init(repeating: value, count: count)
    }

    /// An empty array with room for `capacity` elements, or ``LovaszError/outOfMemory(bytes:)``.
    package init(fallibleCapacity capacity: Int) throws(LovaszError) {
        try FallibleMemory.ensureAvailable(bytes: try FallibleMemory.byteCount(Element.self, count: capacity))
        self.init()
        reserveCapacity(capacity)
    }
}
