#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host-side marks and device times per phase of every launch sequence, printed to stderr
/// when the environment variable `LOVASZ_TRACE` is set (for finding where a call spends its
/// time).
final class OpenCLTrace {
    /// Whether `LOVASZ_TRACE` is set (read once).
    let enabled = getenv("LOVASZ_TRACE") != nil
    private let clock = ContinuousClock()
    private var last: ContinuousClock.Instant

    init() { last = clock.now }

    func start() {
        guard enabled else { return }
        last = clock.now
    }

    func mark(_ phase: String) {
        guard enabled else { return }
        let now = clock.now
        let elapsed = now - last
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
        Self.print("lovasz trace: \(phase): \(milliseconds) ms (host)")
        last = now
    }

    /// Prints the device time of every phase.
    func report(_ phases: PhaseTimes) {
        guard enabled else { return }
        for line in phases.lines { Self.print("lovasz trace: device \(line)") }
    }

    private static func print(_ line: String) {
        _ = (line + "\n").withCString { write(2, $0, strlen($0)) }
    }
}
