import Foundation
import Lovasz
import LovaszNumPy
import LovaszTestSupport
import Testing

@Suite("lovasz loss: output, backends and help")
struct LossOutputTests {
    typealias F = LossInputsFixture

    /// The softmax arguments with every `@name` resolved in `directory`.
    static func softmaxArguments(in directory: LossFixtureDirectory) throws -> [String] {
        for (name, bytes) in F.valid { try directory.file(name, bytes) }
        return F.softmax.map { $0.hasPrefix("@") ? directory.path(String($0.dropFirst())) : $0 }
    }

    @Test("--json prints exactly one object with the documented keys")
    func json() throws {
        let directory = try LossFixtureDirectory()
        let outcome = try runLovasz(try Self.softmaxArguments(in: directory) + ["--json", "--backend", "cpu"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardError.isEmpty, "the CPU was asked for: no notice")
        let object = try parseLossJSON(outcome.standardOutput)
        #expect(Set(object.keys) == ["loss", "backend", "device", "classesCounted", "seconds", "segments"])
        let loss = try #require(object["loss"] as? Double)
        let expected = NaiveLovasz.solve(.init(
            loss: .softmax, scores: F.scores.map(Double.init), shape: [1, 3, 4], labels: [0, 2, 1, 1]))
        #expect(abs(loss - expected.loss) < 1e-6)
        #expect(object["backend"] as? String == "cpu")
        #expect((object["device"] as? String)?.isEmpty == false)
        #expect(object["classesCounted"] as? Int == 3)
        #expect(object["segments"] as? Int == 3)
        let seconds = try #require(object["seconds"] as? Double)
        #expect(seconds >= 0 && seconds < 60)
    }

    @Test("without --json, one short line naming the loss and its value")
    func humanLine() throws {
        let directory = try LossFixtureDirectory()
        let outcome = try runLovasz(try Self.softmaxArguments(in: directory) + ["--backend", "cpu"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n")
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasPrefix("softmax loss 0."))
        #expect(line.contains("3 classes counted") && line.contains("cpu") && line.contains("gradient written to"))
        #expect(line.count < 300)
        let gradient = try NumPyArray(contentsOfFile: directory.path("g.npy"))
        #expect(gradient.shape == [1, 3, 4])
    }

    @Test("--backend auto says on stderr why it uses the CPU")
    func autoBackend() throws {
        let directory = try LossFixtureDirectory()
        let outcome = try runLovasz(try Self.softmaxArguments(in: directory) + ["--json", "--backend", "auto"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let backend = try #require(try parseLossJSON(outcome.standardOutput)["backend"] as? String)
        if backend == "cpu" {
            let lines = outcome.standardError.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(outcome.standardError.hasPrefix("lovasz: using the CPU: "))
            #expect(outcome.standardError.count > "lovasz: using the CPU: \n".count, "a reason is given")
        } else {
            #expect(backend == "opencl")
            #expect(outcome.standardError.isEmpty)
        }
    }

    @Test("--backend opencl computes with OpenCL or exits 3 with the reason")
    func openCLBackend() throws {
        let directory = try LossFixtureDirectory()
        let outcome = try runLovasz(try Self.softmaxArguments(in: directory) + ["--json", "--backend", "opencl"])
        #expect(!outcome.killedBySignal)
        switch outcome.status {
        case 0:
            #expect(try parseLossJSON(outcome.standardOutput)["backend"] as? String == "opencl")
            #expect(try NumPyArray(contentsOfFile: directory.path("g.npy")).shape == [1, 3, 4])
        case 3:
            #expect(outcome.standardOutput.isEmpty)
            #expect(outcome.standardError.hasPrefix("lovasz: "))
            #expect(outcome.standardError.contains("OpenCL"))
            #expect(outcome.standardError.split(separator: "\n").count == 1)
            #expect(try directory.contents() == ["b.npy", "s.npy", "y.npy", "z.npy"], "no gradient file")
        default:
            Issue.record("status \(outcome.status): \(outcome.standardError)")
        }
    }

    @Test("lovasz loss --help documents every option and its values")
    func help() throws {
        for arguments in [["loss", "--help"], ["help", "loss"], ["loss", "-h"]] {
            let outcome = try runLovasz(arguments)
            #expect(outcome.status == 0)
            #expect(outcome.standardError.isEmpty)
            let text = outcome.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for option in [
                "--scores", "--labels", "--loss", "--scores-are", "--classes", "--per-image", "--no-per-image",
                "--ignore-index", "--class-weights", "--backend", "--grad-out", "--json",
            ] {
                #expect(text.contains(option), "\(arguments) mentions \(option)")
            }
            for value in ["softmax", "hinge", "sigmoid", "logits", "probabilities", "present", "0,3,7", "auto", "opencl"] {
                #expect(text.contains(value), "\(arguments) mentions \(value)")
            }
            #expect(text.contains("[B, C, ...]") && text.contains("Exit status"))
        }
        let root = try runLovasz(["--help"])
        #expect(root.status == 0 && root.standardOutput.contains("loss"))
    }
}
