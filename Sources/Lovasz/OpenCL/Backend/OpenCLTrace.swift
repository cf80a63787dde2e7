#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host-side marks and device times per phase of every launch sequence, printed to stderr
/// when the environment variable `LOVASZ_TRACE` is set (for finding where a call spends its
/// time). Each host mark also gives the process's CPU time since the previous mark (on a CPU
/// device such as PoCL, the kernels' own work, which a loaded machine does not inflate).
final class OpenCLTrace {
    /// Whether `LOVASZ_TRACE` is set (read once).
    let enabled = getenv("LOVASZ_TRACE") != nil
    private let clock = ContinuousClock()
    private var last: ContinuousClock.Instant
    private var lastCPU = 0.0

    init() { last = clock.now }

    func start() {
        guard enabled else { return }
        last = clock.now
        lastCPU = Self.processCPUMilliseconds()
    }

    /// User plus system CPU time of the whole process so far.
    private static func processCPUMilliseconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        func milliseconds(_ time: timeval) -> Double { Double(time.tv_sec) * 1e3 + Double(time.tv_usec) * 1e-3 }
        return milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime)
    }

    func mark(_ phase: String) {
        guard enabled else { return }
        let now = clock.now
        let elapsed = now - last
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
        let cpu = Self.processCPUMilliseconds()
        Self.print("lovasz trace: \(phase): \(milliseconds) ms (host; CPU \(cpu - lastCPU) ms)")
        last = now
        lastCPU = cpu
    }

    /// Prints the device time of every phase.
    func report(_ phases: PhaseTimes) {
        guard enabled else { return }
        for line in phases.commandLines { Self.print("lovasz trace: device command \(line)") }
        for line in phases.lines { Self.print("lovasz trace: device \(line)") }
    }

    private static func print(_ line: String) {
        _ = (line + "\n").withCString { write(2, $0, strlen($0)) }
    }
}
