#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host-side phase timings of one launch sequence, printed to stderr when the environment
/// variable `LOVASZ_TRACE` is set (for finding where a call spends its time).
final class OpenCLTrace {
    /// Whether `LOVASZ_TRACE` is set (callers may then wait for the queue to time a phase).
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
        let line = "lovasz trace: \(phase): \(milliseconds) ms\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        last = now
    }
}
