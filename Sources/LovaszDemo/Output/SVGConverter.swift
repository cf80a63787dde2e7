import Foundation

/// Converts an SVG file to PNG with the first working converter on the `PATH`:
/// `rsvg-convert`, `inkscape`, `magick`, then `convert` (ImageMagick).
///
/// A converter counts as working when it exits with status 0 and leaves a file that starts
/// with the PNG signature; otherwise the next one is tried.
enum SVGConverter {
    /// The outcome: the converter used, or why there is no PNG.
    enum Outcome: Equatable {
        case converted(by: String)
        case unavailable(String)
    }

    static func convert(svg: URL, to png: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> Outcome {
        let candidates: [(name: String, arguments: [String])] = [
            ("rsvg-convert", ["-o", png.path, svg.path]),
            ("inkscape", [svg.path, "--export-type=png", "--export-filename=\(png.path)"]),
            ("magick", [svg.path, png.path]),
            ("convert", [svg.path, png.path]),
        ]
        var tried = [String]()
        for candidate in candidates {
            guard let executable = findOnPath(candidate.name, environment: environment) else { continue }
            tried.append(candidate.name)
            try? FileManager.default.removeItem(at: png)
            if run(executable, candidate.arguments), isPNG(png) { return .converted(by: candidate.name) }
            try? FileManager.default.removeItem(at: png)
        }
        if tried.isEmpty { return .unavailable("no SVG converter (rsvg-convert, inkscape, magick, convert) on the PATH") }
        return .unavailable("no converter succeeded (tried \(tried.joined(separator: ", ")))")
    }

    static func findOnPath(_ name: String, environment: [String: String]) -> URL? {
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories where !directory.isEmpty {
            let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    private static func run(_ executable: URL, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        // A converter that hangs (a GUI prompt, a broken font cache) is given up after a minute.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationReason == .exit && process.terminationStatus == 0
    }

    private static func isPNG(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return Array(head) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    }
}
