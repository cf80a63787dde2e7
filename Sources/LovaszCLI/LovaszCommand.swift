import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `lovasz` command: Lovász losses on the CPU or through OpenCL.
///
/// Exit statuses (docs/DESIGN.md §4): 0 on success, 2 for bad input, a bad command line or
/// output that cannot be written (one line `lovasz: <message>` on stderr), 3 when OpenCL was
/// asked for and cannot be used, 1 for any
/// other failure. The root is asynchronous so that any subcommand may be.
@main
struct LovaszCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lovasz",
        abstract: "Lovász-Softmax, Lovász hinge and Lovász-Sigmoid losses and gradients, on OpenCL or the CPU.",
        discussion: """
            Exit status: 0 on success, 2 for bad input or a bad command line, 3 when \
            `--backend opencl` cannot use OpenCL, 1 for any other failure.
            """,
        subcommands: [LossCommand.self, DevicesCommand.self, BenchCommand.self, DemoCommand.self]
    )

    /// Parses the command line, runs the chosen subcommand and exits with the status its
    /// outcome maps to (``ExitStatus``), never with ArgumentParser's usage status 64.
    static func main() async {
        // A closed stdout (`lovasz … | head -0`) must not kill the process with SIGPIPE: the
        // write fails with EPIPE and the command exits with status 2 instead.
        signal(SIGPIPE, SIG_IGN)
        StandardStreams.reopenClosed()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            ExitStatus.exit(for: error)
        }
        // The result is lost when stdout cannot take it: say so and fail.
        if let failure = StandardStreams.flushOutput() {
            ExitStatus.exit(for: CommandFailure.badInput(failure))
        }
    }
}
