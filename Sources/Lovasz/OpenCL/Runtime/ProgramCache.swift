import Synchronization

/// Builds each (context, source, options) once and hands out the same ``CLProgram`` after.
///
/// A context has one device, so the key is the (device, source, options) triple within a
/// context. Thread-safe: concurrent requests wait for one build. Builds run under the cache's
/// lock, one at a time. Failed builds are not cached: the next request tries again and
/// throws again.
final class ProgramCache: Sendable {
    private struct Key: Hashable {
        let context: ObjectIdentifier
        let source: String
        let options: String
    }

    /// Cached programs; each keeps its context alive, so a context's identifier stays unique
    /// while its entries exist.
    private let programs = Mutex<[Key: CLProgram]>([:])

    init() {}

    /// The program built from `source` with `options` for `context`, built on first request.
    ///
    /// - Throws: ``OpenCLError`` from ``CLProgram/init(context:source:options:)``, with the
    ///   build log for a program that does not compile.
    func program(for context: CLContext, source: String, options: String = "") throws(OpenCLError) -> CLProgram {
        let key = Key(context: ObjectIdentifier(context), source: source, options: options)
        return try programs.withLock { (programs) throws(OpenCLError) -> CLProgram in
            if let program = programs[key] { return program }
            let program = try CLProgram(context: context, source: source, options: options)
            programs[key] = program
            return program
        }
    }

    /// The number of programs held.
    var count: Int { programs.withLock { $0.count } }

    /// Drops every program (their OpenCL objects are released once no kernel uses them).
    func removeAll() { programs.withLock { $0.removeAll() } }
}
