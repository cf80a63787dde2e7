import ArgumentParser

/// `lovasz demo` (not implemented yet).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Not implemented yet.")
    func run() throws { throw ValidationError("`lovasz demo` is not implemented yet") }
}
