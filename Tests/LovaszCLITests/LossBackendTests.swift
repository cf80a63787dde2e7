import Foundation
import Lovasz
import LovaszNumPy
import LovaszTestSupport
import Testing

/// Whether this host has any OpenCL device (PoCL in CI).
let hostHasOpenCLDevice = OpenCLDiscovery.system.selectDevice(for: .opencl).device != nil

/// `lovasz loss --backend opencl` against `--backend cpu`, and the fallbacks of `auto`.
@Suite("lovasz loss: OpenCL and CPU backends")
struct LossBackendTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var shape: [Int]
        var arguments: [String]
        var labelClasses: Int
        var labelShape: [Int]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "softmax per batch, ignore index", shape: [2, 4, 5, 7], arguments: ["--ignore-index", "9"],
             labelClasses: 4, labelShape: [2, 5, 7]),
        Case(name: "softmax per image, all classes", shape: [3, 5, 4, 6], arguments: ["--per-image", "--classes", "all"],
             labelClasses: 3, labelShape: [3, 4, 6]),
        Case(name: "softmax, explicit classes, probabilities", shape: [2, 4, 6, 5],
             arguments: ["--classes", "0,3", "--scores-are", "probabilities"], labelClasses: 4, labelShape: [2, 6, 5]),
        Case(name: "hinge", shape: [3, 7, 8], arguments: ["--loss", "hinge"], labelClasses: 2, labelShape: [3, 7, 8]),
        Case(name: "sigmoid per batch", shape: [2, 1, 9, 4], arguments: ["--loss", "sigmoid", "--no-per-image"],
             labelClasses: 2, labelShape: [2, 9, 4]),
    ]

    /// Writes random scores and labels (a few 9s among them) and returns their paths.
    static func inputs(_ testCase: Case, in directory: LossFixtureDirectory) throws -> [String] {
        var state: UInt64 = 12345
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let scores = (0..<testCase.shape.reduce(1, *)).map { _ in Float(next() % 1000) / 1000 }
        let labels = (0..<testCase.labelShape.reduce(1, *)).map { _ -> Int32 in
            next() % 10 == 0 && testCase.arguments.contains("9") ? 9 : Int32(next() % UInt64(testCase.labelClasses))
        }
        let scoresPath = try directory.file("scores.npy", NumPyFixtures.float32(scores, shape: testCase.shape))
        let labelsPath = try directory.file("labels.npy", NumPyFixtures.integers(labels, shape: testCase.labelShape))
        return ["--scores", scoresPath, "--labels", labelsPath] + testCase.arguments
    }

    @Test("--backend opencl gives the loss and gradient of --backend cpu", .enabled(if: hostHasOpenCLDevice, "no OpenCL device on this host"),
          arguments: cases)
    func sameLossAndGradient(_ testCase: Case) throws {
        let directory = try LossFixtureDirectory()
        let arguments = try Self.inputs(testCase, in: directory)
        var losses: [Double] = []
        var gradients: [[Float]] = []
        for backend in ["opencl", "cpu"] {
            let gradientPath = directory.path("gradient-\(backend).npy")
            let outcome = try runLovasz(["loss"] + arguments + ["--backend", backend, "--json", "--grad-out", gradientPath])
            #expect(outcome.status == 0, "\(outcome.standardError)")
            let json = try parseLossJSON(outcome.standardOutput)
            #expect(json["backend"] as? String == backend)
            losses.append(try #require(json["loss"] as? Double))
            let gradient = try NumPyArray(contentsOfFile: gradientPath)
            #expect(gradient.shape == testCase.shape)
            gradients.append(try #require(gradient.floats))
        }
        #expect(abs(losses[0] - losses[1]) <= 1e-5 * max(abs(losses[1]), 1e-3))
        let worst = zip(gradients[0], gradients[1]).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6)
    }

    /// Environments in which OpenCL cannot be used: no loader, and a loader with no platform
    /// (an empty vendors folder made inside `directory`).
    static func brokenEnvironments(in directory: LossFixtureDirectory) throws -> [(String, [String: String?], String)] {
        let empty = directory.url.appendingPathComponent("vendors", isDirectory: true)
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        return [
            ("no loader", ["LOVASZ_OPENCL_LIBRARY": "/nonexistent/libOpenCL.so.1"], "/nonexistent/libOpenCL.so.1"),
            ("no platform", ["OCL_ICD_VENDORS": empty.path, "OPENCL_VENDOR_PATH": empty.path], "platform"),
        ]
    }

    @Test("--backend auto falls back to the CPU and says why on stderr")
    func autoFallsBack() throws {
        let directory = try LossFixtureDirectory()
        let arguments = try Self.inputs(Self.cases[0], in: directory)
        let reference = try runLovasz(["loss"] + arguments + ["--backend", "cpu", "--json"])
        let expectedLoss = try #require(try parseLossJSON(reference.standardOutput)["loss"] as? Double)
        for (name, environment, mention) in try Self.brokenEnvironments(in: directory) {
            let outcome = try CommandRunner().run(["loss"] + arguments + ["--backend", "auto", "--json"], environment: environment)
            #expect(outcome.status == 0, "\(name): \(outcome.standardError)")
            #expect(outcome.standardError.contains("using the CPU"), "\(name): \(outcome.standardError)")
            #expect(outcome.standardError.contains(mention), "\(name): \(outcome.standardError)")
            let json = try parseLossJSON(outcome.standardOutput)
            #expect(json["backend"] as? String == "cpu")
            #expect(json["loss"] as? Double == expectedLoss)
        }
    }

    @Test("--backend opencl exits 3 with the reason when OpenCL cannot be used")
    func explicitOpenCLFails() throws {
        let directory = try LossFixtureDirectory()
        let arguments = try Self.inputs(Self.cases[0], in: directory)
        for (name, environment, mention) in try Self.brokenEnvironments(in: directory) {
            let outcome = try CommandRunner().run(["loss"] + arguments + ["--backend", "opencl"], environment: environment)
            #expect(outcome.status == 3, "\(name): \(outcome.standardError)")
            #expect(outcome.standardError.contains(mention), "\(name): \(outcome.standardError)")
            #expect(outcome.standardOutput.isEmpty)
        }
    }
}
