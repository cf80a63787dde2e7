import Synchronization

/// Programs built for callers' contexts, one per (context, options), shared by every engine on
/// that context while one of them is alive.
///
/// Entries are weak: when the last engine on a context goes, its program (and the program's
/// reference to the caller's context) is released, so the library never keeps a caller's
/// context alive. Thread-safe; builds run under the lock, one at a time.
final class ContextProgramCache: Sendable {
    private struct Key: Hashable {
        let context: UInt
        let options: String
    }

    // @unchecked Sendable: CLProgram is Sendable; the weak reference is only read and written under the Mutex.
    private struct Entry: @unchecked Sendable {
        weak var program: CLProgram?
    }

    private let entries = Mutex<[Key: Entry]>([:])

    /// The process-wide cache for callers' contexts.
    static let shared = ContextProgramCache()

    /// The program of `context` built with `options`, built unless a live one exists.
    ///
    /// A context address is reused only after the context is released, which the program's
    /// own reference prevents while the entry is alive.
    /// - Throws: ``OpenCLError`` from ``CLProgram/init(context:source:options:)``.
    func program(for context: CLContext, source: String, options: String) throws(OpenCLError) -> CLProgram {
        let key = Key(context: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(context.handle))), options: options)
        return try entries.withLock { (entries) throws(OpenCLError) -> CLProgram in
            if let program = entries[key]?.program { return program }
            entries = entries.filter { $0.value.program != nil }
            let program = try CLProgram(context: context, source: source, options: options)
            entries[key] = Entry(program: program)
            return program
        }
    }
}
