import ArgumentParser
import Foundation
import Lovasz
import LovaszNumPy

/// A failure a subcommand reports with its own exit status and a one-line message.
struct CommandFailure: Error, CustomStringConvertible {
    /// The process exit status.
    let status: Int32
    /// One line naming the problem, printed after `lovasz: `.
    let message: String

    var description: String { message }

    /// Bad input (a file, a shape, a label, an option): status 2.
    static func badInput(_ message: String) -> CommandFailure { CommandFailure(status: ExitStatus.badInput, message: message) }
}

/// The exit statuses of `lovasz` and the mapping of every error to one of them.
enum ExitStatus {
    /// Success.
    static let success: Int32 = 0
    /// A failure that is not the user's input.
    static let failure: Int32 = 1
    /// Bad input or command line.
    static let badInput: Int32 = 2
    /// OpenCL was asked for and cannot be used.
    static let openCLUnavailable: Int32 = 3

    /// The status and message for `error`; a `nil` message prints nothing.
    static func classify(_ error: any Error) -> (status: Int32, message: String?) {
        switch error {
        case let failure as CommandFailure:
            return (failure.status, failure.message)
        case let error as LovaszError:
            switch error {
            case .openCLUnavailable, .openCL: return (openCLUnavailable, error.description)
            default: return (badInput, error.description)
            }
        case let error as NumPyError:
            return (badInput, error.description)
        case let code as ExitCode:
            return (code.rawValue, nil)
        default:
            break
        }
        let code = LovaszCommand.exitCode(for: error)
        if code == .success { return (success, nil) }
        var message = LovaszCommand.message(for: error)
        // Parse and validation errors: status 2 and a pointer to the right help page.
        if code == .validationFailure {
            let full = LovaszCommand.fullMessage(for: error, columns: 10_000)
            // ArgumentParser's last line reads "See 'lovasz loss --help' for more information."
            if let hint = full.split(separator: "\n").first(where: { $0.contains("--help' for more information") }),
                let start = hint.range(of: "'"), let end = hint.range(of: "'", options: .backwards), start.upperBound < end.lowerBound
            {
                message += " (see '\(hint[start.upperBound..<end.lowerBound])')"
            }
            return (badInput, message)
        }
        return (code.rawValue, message)
    }

    /// Prints what `error` calls for and exits: help and clean exits on stdout with status 0,
    /// everything else as one line `lovasz: <message>` on stderr.
    static func exit(for error: any Error) -> Never {
        let (status, message) = classify(error)
        if status == success {
            let text = LovaszCommand.fullMessage(for: error)
            if !text.isEmpty { print(text) }
        } else if let message, !message.isEmpty {
            StandardError.print("lovasz: " + oneLine(message))
        }
        LovaszCommand.exit(withError: ExitCode(status))
    }

    /// `text` with its line breaks folded, so that every message is one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(whereSeparator: \.isWhitespace) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(whereSeparator isSeparator: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !isSeparator($0) }), let last = lastIndex(where: { !isSeparator($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
