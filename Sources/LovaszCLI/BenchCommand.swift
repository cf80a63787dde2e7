import ArgumentParser

/// `lovasz bench` (not implemented yet).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Not implemented yet.")
    func run() throws { throw ValidationError("`lovasz bench` is not implemented yet") }
}
