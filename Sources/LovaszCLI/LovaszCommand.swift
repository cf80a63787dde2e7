import ArgumentParser

/// The `lovasz` command: Lovász losses on the CPU or through OpenCL.
@main
struct LovaszCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lovasz",
        abstract: "Lovász-Softmax, Lovász hinge and Lovász-Sigmoid losses and gradients, on OpenCL or the CPU.",
        subcommands: [LossCommand.self, DevicesCommand.self, BenchCommand.self, DemoCommand.self]
    )
}
