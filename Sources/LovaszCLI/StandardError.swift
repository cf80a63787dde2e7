import Foundation

/// The command's standard error: progress, notes, skipped backends and error messages, kept
/// apart from the results on standard output.
enum StandardError {
    /// Writes `line` and a line break to stderr, unbuffered.
    static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
