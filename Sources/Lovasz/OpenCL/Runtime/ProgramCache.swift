import Synchronization

/// Builds each (device, source, options) once and hands out the same ``CLProgram`` after.
///
/// The program comes with its own context (``CLProgram/context``), created for it; whoever
/// runs its kernels makes queues and buffers in that context. So one cache holds at most one
/// context per device and build options, however many backends are made. Thread-safe:
/// concurrent requests wait for one build. Builds run under the cache's lock, one at a time.
/// Failed builds are not cached: the next request tries again and throws again.
final class ProgramCache: Sendable {
    private struct Key: Hashable {
        let device: OpenCLDevice
        /// The source itself: hashed for the lookup, compared in full on a hash match.
        let source: String
        let options: String
    }

    private let programs = Mutex<[Key: CLProgram]>([:])

    init() {}

    /// The program built from `source` with `options` for `device`, built (in a new context)
    /// on first request.
    ///
    /// - Throws: ``OpenCLError`` from ``CLContext/init(device:)`` or
    ///   ``CLProgram/init(context:source:options:)``, with the build log for a program that
    ///   does not compile.
    func program(for device: OpenCLDevice, source: String, options: String = "") throws(OpenCLError) -> CLProgram {
        let key = Key(device: device, source: source, options: options)
        return try programs.withLock { (programs) throws(OpenCLError) -> CLProgram in
            if let program = programs[key] { return program }
            let program = try CLProgram(context: CLContext(device: device), source: source, options: options)
            programs[key] = program
            return program
        }
    }

    /// The number of programs held.
    var count: Int { programs.withLock { $0.count } }

    /// Drops every program (their OpenCL objects, contexts included, are released once no
    /// kernel, queue or buffer uses them).
    func removeAll() { programs.withLock { $0.removeAll() } }
}
