#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This process's resident memory, as the operating system accounts it.
///
/// On Linux the values come from `/proc/self/status` (`VmRSS`, `VmHWM`), and the peak can be
/// reset to the current value through `/proc/self/clear_refs`, so that one measurement's peak
/// does not include an earlier one's. Elsewhere the peak is `getrusage`'s `ru_maxrss`, which
/// cannot be reset.
package enum ResidentMemory {
    /// The resident set size now, in bytes; `nil` where it cannot be read.
    package static func currentBytes() -> Int? {
        statusField("VmRSS:")
    }

    /// The largest resident set size since the process started or since the last successful
    /// ``resetPeak()``, in bytes; `nil` where it cannot be read.
    package static func peakBytes() -> Int? {
        #if os(Linux)
        return statusField("VmHWM:")
        #else
        var usage = rusage()
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #endif
    }

    /// Resets the peak to the current resident set size (Linux 4.0 and later).
    ///
    /// - Returns: whether the peak was reset; `false` where the system does not allow it.
    @discardableResult
    package static func resetPeak() -> Bool {
        #if os(Linux)
        let descriptor = open("/proc/self/clear_refs", O_WRONLY)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let command: [UInt8] = Array("5".utf8)
        return command.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == command.count
        #else
        return false
        #endif
    }

    /// The value in bytes of a `kB` field of `/proc/self/status`.
    private static func statusField(_ name: String) -> Int? {
        #if os(Linux)
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(name) else { continue }
            let fields = text.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            guard let value = fields.first.flatMap({ Int($0) }) else { return nil }
            return fields.dropFirst().first == "kB" ? value * 1024 : value
        }
        return nil
        #else
        return nil
        #endif
    }
}
