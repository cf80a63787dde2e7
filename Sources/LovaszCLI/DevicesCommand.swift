import ArgumentParser

/// `lovasz devices` (not implemented yet).
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devices", abstract: "Not implemented yet.")
    func run() throws { throw ValidationError("`lovasz devices` is not implemented yet") }
}
