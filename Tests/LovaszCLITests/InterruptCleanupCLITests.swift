import Foundation
import LovaszTestSupport
import Testing

/// SIGINT and SIGTERM during an atomic `--grad-out` write (issue 10): the temporary file is
/// removed, the existing file is untouched, and the process ends by the signal.
///
/// Deterministic, not a race: the debug build's hook `LOVASZ_TEST_PAUSE_AFTER_TEMPORARY`
/// makes the writer pause once its temporary file exists and say so on stderr; the signal is
/// sent only after that line has arrived.
@Suite("lovasz loss: a signal during the --grad-out write")
struct InterruptCleanupCLITests {
    typealias F = LossInputsFixture
    static let announcement = "lovasz-test: paused after temporary "

    /// Reads `handle` until a whole line starting with ``announcement`` has arrived; the path
    /// it names, or nil at the end of the stream.
    func awaitAnnouncement(on handle: FileHandle) -> (path: String?, text: String) {
        var text = ""
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return (nil, text) }
            text += String(decoding: chunk, as: UTF8.self)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            where line.hasPrefix(Self.announcement) {
                return (String(line.dropFirst(Self.announcement.count)), text)
            }
        }
    }

    /// Runs `body` with SIGINT and SIGTERM unblocked on the calling thread. The test runner's
    /// worker threads block most signals and the child inherits the mask of the thread that
    /// starts it, where the signals would stay pending for ever.
    static func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var signals = sigset_t(), previous = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    @Test("the temporary file is removed and the existing file kept", arguments: [SIGINT, SIGTERM])
    func signalDuringWrite(signal: Int32) throws {
        let directory = try NumPyFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, bytes) in F.valid { _ = try NumPyFixtures.write(bytes, named: name, in: directory) }
        let existing: [UInt8] = Array("the previous gradient".utf8)
        let target = try NumPyFixtures.write(existing, named: "g.npy", in: directory)
        chmod(target, 0o640)

        let process = Process()
        process.executableURL = CommandRunner.lovaszExecutable
        process.arguments = ["loss", "--scores", "s.npy", "--labels", "y.npy", "--grad-out", "g.npy"]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["LOVASZ_TEST_PAUSE_AFTER_TEMPORARY"] = "1"
        process.environment = environment
        let error = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = error
        try Self.withSignalsUnblocked { try process.run() }

        let (announced, text) = awaitAnnouncement(on: error.fileHandleForReading)
        guard let temporary = announced else {
            process.waitUntilExit()
            Issue.record("the command ended without pausing (a release build?): \(text)")
            return
        }
        // The pause is real: the temporary file exists next to the target.
        let temporaryURL = URL(fileURLWithPath: temporary, relativeTo: directory)
        #expect(FileManager.default.fileExists(atPath: temporaryURL.path), "\(temporary)")
        #expect(temporaryURL.deletingLastPathComponent().standardizedFileURL.path == directory.standardizedFileURL.path)

        #expect(kill(process.processIdentifier, signal) == 0)
        _ = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()

        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == signal)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == (Array(F.valid.keys) + ["g.npy"]).sorted())
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: target))) == existing)
        var info = stat()
        #expect(stat(target, &info) == 0 && info.st_mode & 0o7777 == 0o640)
    }
}
