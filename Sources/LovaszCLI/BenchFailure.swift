import ArgumentParser
import Foundation

/// A failure of `lovasz bench`: its exit status and one line naming the problem.
struct BenchFailure: Error, CustomStringConvertible {
    /// The exit status: 2 for bad input, 3 when the only backend asked for is unavailable.
    let status: Int32
    let message: String

    var description: String { message }

    /// Bad input (a file, a shape, a label, an option): status 2.
    static func badInput(_ message: String) -> BenchFailure { BenchFailure(status: 2, message: message) }

    /// OpenCL was the only backend asked for and cannot be used: status 3.
    static func openCLUnavailable(_ message: String) -> BenchFailure { BenchFailure(status: 3, message: message) }

    /// A measurement exceeded its memory budget (`--memory`): status 1.
    static func overBudget(_ message: String) -> BenchFailure { BenchFailure(status: 1, message: message) }

    /// Prints `lovasz: <message>` on stderr and returns the exit code to throw.
    func report() -> ExitCode {
        BenchProgress.line("lovasz: " + message)
        return ExitCode(status)
    }
}

/// Progress and notes on stderr, so that stdout holds only the table or the JSON.
enum BenchProgress {
    static func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
