import Foundation
import LovaszTestSupport
import Testing

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lovasz-demo-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("lovasz demo (subprocess)")
struct DemoCommandTests {
    @Test("--quick prints both tables and the Fig. 3 finding, and writes every picture")
    func quickDemo() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out/nested")
        let outcome = try CommandRunner().run(["demo", "--quick", "--no-progress", "--output", output.path])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(!outcome.killedBySignal)
        let text = outcome.standardOutput
        #expect(text.contains("Lovász losses computed by: "))
        #expect(text.contains("REPRODUCED") && !text.contains("NOT reproduced"))
        for row in ["Jaccard loss", "Lovász hinge", "binary cross-entropy", "minimum of the hinge",
                    "after Lovász-Softmax", "after cross-entropy", "data-set mIoU", "image mIoU", "batch mIoU"] {
            #expect(text.contains(row), "missing \(row)")
        }
        #expect(text.contains("Pictures written to \(output.standardizedFileURL.path)"))
        for name in ["fig3-losses.svg", "fig3-losses.csv", "training-loss.svg", "training-miou.svg", "training-curves.csv", "masks.png", "masks.ppm"] {
            let file = output.appendingPathComponent(name)
            #expect(FileManager.default.fileExists(atPath: file.path), "missing \(name)")
            #expect(text.contains("  " + name))
        }
        let png = try Data(contentsOf: output.appendingPathComponent("masks.png"))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let ppm = try Data(contentsOf: output.appendingPathComponent("masks.ppm"))
        // 4 columns and 5 rows of 48x48 masks with 4-pixel gaps.
        let header = "P6\n\(4 * 48 + 12) \(5 * 48 + 16)\n255\n"
        #expect(Array(ppm.prefix(header.utf8.count)) == Array(header.utf8))
        #expect(ppm.count == header.utf8.count + 3 * (4 * 48 + 12) * (5 * 48 + 16))
        // Every plot has a PNG copy exactly when an SVG converter worked (scripts/install-deps
        // installs rsvg-convert, so CI takes the first branch), and the output says which.
        let plots = ["fig3-losses", "training-loss", "training-miou"]
        if FileManager.default.fileExists(atPath: output.appendingPathComponent("fig3-losses.png").path) {
            for plot in plots {
                let figure = output.appendingPathComponent(plot + ".png")
                let bytes = [UInt8]((try? Data(contentsOf: figure)) ?? Data())
                #expect(Array(bytes.prefix(4)) == [0x89, 0x50, 0x4E, 0x47], "\(plot).png")
                #expect(text.contains("  \(plot).png"))
            }
            #expect(!text.contains("no PNG copies"))
        } else {
            #expect(text.contains("no PNG copies of the plots"))
            for plot in plots {
                #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent(plot + ".png").path))
            }
        }
    }

    @Test("two runs print the same numbers")
    func reproducible() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["demo", "--no-progress", "--size", "16", "--steps", "4", "--output", directory.path]
        let first = try CommandRunner().run(arguments), second = try CommandRunner().run(arguments)
        #expect(first.status == 0 && second.status == 0)
        func withoutTimes(_ text: String) -> String {
            text.split(separator: "\n").filter { !$0.contains("seconds") }.joined(separator: "\n")
        }
        #expect(withoutTimes(first.standardOutput) == withoutTimes(second.standardOutput))
    }

    @Test("progress is shown on stderr while training")
    func progress() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try CommandRunner().run(["demo", "--size", "16", "--steps", "10", "--output", directory.path])
        #expect(outcome.status == 0)
        #expect(outcome.standardError.contains("training with Lovász-Softmax: step 10/10"))
        #expect(outcome.standardError.contains("training with cross-entropy: step 10/10"))
    }

    @Test("a closed standard output neither crashes the demo nor stops the pictures")
    func closedStandardOutput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = Process()
        process.executableURL = CommandRunner.lovaszExecutable
        process.arguments = ["demo", "--size", "16", "--steps", "3", "--no-progress", "--output", directory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try output.fileHandleForReading.close()
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("masks.png").path))
    }

    @Test("an unwritable output directory is exit status 2 with one line naming it")
    func unwritableOutput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let outcome = try CommandRunner().run(["demo", "--quick", "--output", file.appendingPathComponent("sub").path])
        #expect(outcome.status == 2)
        #expect(!outcome.killedBySignal)
        let lines = outcome.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("a-file/sub") == true)
    }

    @Test("invalid options are refused before any work", arguments: [["--steps", "0"], ["--size", "4"], ["--noise", "-1"], ["--backend", "gpu"]])
    func invalidOptions(_ options: [String]) throws {
        let outcome = try CommandRunner().run(["demo", "--output", "/nonexistent/never-created"] + options)
        #expect(outcome.status != 0)
        #expect(!outcome.killedBySignal)
        #expect(outcome.standardOutput.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/never-created"))
    }

    @Test("--help explains the demo")
    func help() throws {
        let outcome = try CommandRunner().run(["demo", "--help"])
        #expect(outcome.status == 0)
        for word in ["Fig. 3", "--quick", "--output", "--steps", "--size", "--backend", "masks.png"] {
            #expect(outcome.standardOutput.contains(word), "missing \(word)")
        }
    }
}
