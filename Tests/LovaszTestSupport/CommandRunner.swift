public import Foundation

/// Runs the built `lovasz` binary as a subprocess and captures what it printed.
public struct CommandRunner: Sendable {
    /// What one run of the command left behind.
    public struct Outcome: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
        /// Whether the process ended by a signal (a crash) rather than an exit.
        public var killedBySignal: Bool
    }

    /// The `lovasz` executable next to the test bundle (`.build/<configuration>/lovasz`).
    public static var lovaszExecutable: URL {
        if let path = ProcessInfo.processInfo.environment["LOVASZ_EXECUTABLE"] {
            return URL(fileURLWithPath: path)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the tests run from `.build/<triple>/debug/<name>.xctest`.
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("lovasz")
    }

    public init() {}

    /// Runs `/bin/sh -c script` with `$LOVASZ` naming the executable, for redirections
    /// (`2>&-`, `>/dev/full`) and limits (`ulimit -v`). A child killed by a signal shows as a
    /// shell status above 128, reported in ``Outcome/killedBySignal``.
    public func runShell(_ script: String, in directory: URL) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["LOVASZ"] = Self.lovaszExecutable.path
        process.environment = env
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self),
            killedBySignal: process.terminationReason == .uncaughtSignal || process.terminationStatus > 128)
    }

    /// Runs `lovasz arguments…` with `environment` added to (or removed from, for `nil`
    /// values) this process's environment.
    public func run(_ arguments: [String], environment: [String: String?] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.lovaszExecutable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both pipes before waiting so a chatty child cannot block on a full pipe.
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self),
            killedBySignal: process.terminationReason == .uncaughtSignal)
    }
}
