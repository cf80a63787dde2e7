import ArgumentParser

/// `lovasz loss` (not implemented yet).
struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "loss", abstract: "Not implemented yet.")
    func run() throws { throw ValidationError("`lovasz loss` is not implemented yet") }
}
