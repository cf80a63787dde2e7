import Foundation
import Lovasz
import LovaszNumPy
import LovaszTestSupport
import Testing

/// The label dtypes the command must take, each kept in its own type.
enum LossLabelDType: String, CaseIterable {
    case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64

    func file(_ labels: [Int], shape: [Int]) -> [UInt8] {
        switch self {
        case .bool: return NumPyFixtures.booleans(labels.map { $0 != 0 }, shape: shape)
        case .int8: return NumPyFixtures.integers(labels.map { Int8($0) }, shape: shape)
        case .int16: return NumPyFixtures.integers(labels.map { Int16($0) }, shape: shape, bigEndian: true)
        case .int32: return NumPyFixtures.integers(labels.map { Int32($0) }, shape: shape)
        case .int64: return NumPyFixtures.integers(labels.map { Int64($0) }, shape: shape)
        case .uint8: return NumPyFixtures.integers(labels.map { UInt8($0) }, shape: shape)
        case .uint16: return NumPyFixtures.integers(labels.map { UInt16($0) }, shape: shape)
        case .uint32: return NumPyFixtures.integers(labels.map { UInt32($0) }, shape: shape)
        case .uint64: return NumPyFixtures.integers(labels.map { UInt64($0) }, shape: shape)
        }
    }
}

/// One run of `lovasz loss` and the naive answer it must give.
struct LossCase: CustomStringConvertible {
    var description: String
    var problem: NaiveLovasz.Problem
    var scoresFile: [UInt8]
    var labelsFile: [UInt8]
    var weightsFile: [UInt8]? = nil
    var arguments: [String]

    /// A case with random scores (float32 values) and labels drawn from `labelValues`.
    static func random(
        _ description: String, loss: LovaszLoss, shape: [Int], labelShape: [Int], labelValues: [Int],
        dtype: LossLabelDType, seed: UInt64, probabilities: Bool = false, arguments: [String] = [],
        configure: (inout NaiveLovasz.Problem) -> Void = { _ in }
    ) -> LossCase {
        var generator = NumPyFixtures.SeededGenerator(seed: seed)
        let count = shape.reduce(1, *)
        let scores = (0..<count).map { _ in
            Double(probabilities ? Float.random(in: 0.01...0.99, using: &generator) : Float.random(in: -3...3, using: &generator))
        }
        let labels = (0..<labelShape.reduce(1, *)).map { _ in labelValues.randomElement(using: &generator)! }
        var problem = NaiveLovasz.Problem(loss: loss, scores: scores, shape: shape, labels: labels, probabilities: probabilities)
        configure(&problem)
        return LossCase(
            description: description, problem: problem,
            scoresFile: NumPyFixtures.float32(problem.scores.map { Float($0) }, shape: shape),
            labelsFile: dtype.file(problem.labels, shape: labelShape),
            arguments: ["--loss", loss.rawValue] + (probabilities ? ["--scores-are", "probabilities"] : []) + arguments)
    }
}

@Suite("lovasz loss: values")
struct LossValueTests {
    /// Runs a case with `--json --grad-out` and returns the parsed JSON and gradient file.
    static func run(_ lossCase: LossCase, backend: String = "cpu") throws -> (json: [String: Any], gradient: NumPyArray) {
        let directory = try LossFixtureDirectory()
        var arguments = [
            "loss", "--scores", try directory.file("s.npy", lossCase.scoresFile),
            "--labels", try directory.file("y.npy", lossCase.labelsFile),
            "--json", "--grad-out", directory.path("g.npy"), "--backend", backend,
        ]
        if let weights = lossCase.weightsFile {
            arguments += ["--class-weights", try directory.file("w.npy", weights)]
        }
        let outcome = try runLovasz(arguments + lossCase.arguments)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(!outcome.killedBySignal)
        let json = try parseLossJSON(outcome.standardOutput)
        let gradient = try NumPyArray(contentsOfFile: directory.path("g.npy"))
        return (json, gradient)
    }

    @Test("hinge by hand: F=[2,-1,0.5,0.2], y=[1,0,1,0] gives 0.5666… and [0, 0, -1/3, 1/3]")
    func hingeByHand() throws {
        let (json, gradient) = try Self.run(LossCase(
            description: "hinge", problem: .init(loss: .hinge, scores: [], shape: [1, 4], labels: []),
            scoresFile: NumPyFixtures.float32([2, -1, 0.5, 0.2], shape: [1, 4]),
            labelsFile: NumPyFixtures.integers([1, 0, 1, 0] as [Int64], shape: [1, 4]),
            arguments: ["--loss", "hinge"]))
        let loss = try #require(json["loss"] as? Double)
        #expect(abs(loss - 1.7 / 3) < 1e-6)
        #expect(json["classesCounted"] as? Int == 1)
        #expect(gradient.shape == [1, 4])
        #expect(gradient.dtype == NumPyDType(.float32, byteOrder: .littleEndian))
        let values = try #require(gradient.floats)
        #expect(zip(values, [0, 0, -1.0 / 3, 1.0 / 3]).allSatisfy { abs(Double($0) - $1) < 1e-6 })
    }

    @Test("softmax by hand on probabilities: (0.4 + 11/30) / 2")
    func softmaxByHand() throws {
        let (json, gradient) = try Self.run(LossCase(
            description: "softmax", problem: .init(loss: .softmax, scores: [], shape: [1, 2, 3], labels: []),
            scoresFile: NumPyFixtures.float32([0.8, 0.4, 0.1, 0.2, 0.6, 0.9], shape: [1, 2, 3]),
            labelsFile: NumPyFixtures.integers([0, 0, 1] as [UInt8], shape: [1, 3]),
            arguments: ["--scores-are", "probabilities"]))
        #expect(abs(try #require(json["loss"] as? Double) - 23.0 / 60) < 1e-6)
        #expect(json["classesCounted"] as? Int == 2)
        #expect(json["segments"] as? Int == 2)
        #expect(gradient.shape == [1, 2, 3])
        let expected = [-0.25, -0.25, 0, 1.0 / 12, 0.25, -1.0 / 6]
        #expect(zip(try #require(gradient.floats), expected).allSatisfy { abs(Double($0) - $1) < 1e-6 })
    }

    @Test("sigmoid by hand on probabilities: 0.55")
    func sigmoidByHand() throws {
        let (json, gradient) = try Self.run(LossCase(
            description: "sigmoid", problem: .init(loss: .sigmoid, scores: [], shape: [1, 4], labels: []),
            scoresFile: NumPyFixtures.float32([0.9, 0.3, 0.6, 0.2], shape: [1, 4]),
            labelsFile: NumPyFixtures.integers([1, 0, 0, 1] as [Int32], shape: [1, 4]),
            arguments: ["--loss", "sigmoid", "--scores-are", "probabilities"]))
        #expect(abs(try #require(json["loss"] as? Double) - 0.55) < 1e-6)
        let expected = [-0.25, 1.0 / 12, 1.0 / 6, -0.5]
        #expect(zip(try #require(gradient.floats), expected).allSatisfy { abs(Double($0) - $1) < 1e-6 })
    }

    static let cases: [LossCase] = [
        .random("softmax logits, ignore 255, per batch", loss: .softmax, shape: [2, 3, 4, 5], labelShape: [2, 4, 5],
                labelValues: [0, 1, 2, 255], dtype: .uint8, seed: 1, arguments: ["--ignore-index", "255"]) {
            $0.ignoreIndex = 255
        },
        .random("softmax logits, per image, all classes", loss: .softmax, shape: [2, 4, 5], labelShape: [2, 5],
                labelValues: [0, 1, 3], dtype: .int64, seed: 2, arguments: ["--per-image", "--classes", "all"]) {
            $0.perImage = true
            $0.classes = .all
        },
        .random("softmax probabilities, explicit classes with an absent one", loss: .softmax, shape: [1, 4, 6],
                labelShape: [1, 6], labelValues: [0, 1, 3], dtype: .int32, seed: 3, probabilities: true,
                arguments: ["--classes", "0, 2,3"]) {
            $0.classes = .explicit([0, 2, 3])
        },
        .random("softmax 5-d, ignore -1, an image all ignored", loss: .softmax, shape: [3, 2, 2, 2, 2],
                labelShape: [3, 2, 2, 2], labelValues: [0, 1, -1], dtype: .int16, seed: 4,
                arguments: ["--ignore-index", "-1", "--per-image"]) {
            $0.ignoreIndex = -1
            $0.perImage = true
            for s in 8..<16 { $0.labels[s] = -1 }
        },
        .random("hinge [B,1,H,W] scores with [B,H,W] bool labels, per image", loss: .hinge, shape: [2, 1, 3, 3],
                labelShape: [2, 3, 3], labelValues: [0, 1], dtype: .bool, seed: 5),
        .random("hinge per batch with ignored pixels", loss: .hinge, shape: [2, 7], labelShape: [2, 7],
                labelValues: [0, 1, 9], dtype: .int8, seed: 6, arguments: ["--no-per-image", "--ignore-index", "9"]) {
            $0.perImage = false
            $0.ignoreIndex = 9
        },
        .random("sigmoid logits, uint64 labels", loss: .sigmoid, shape: [2, 5], labelShape: [2, 5],
                labelValues: [0, 1], dtype: .uint64, seed: 7),
        .random("sigmoid probabilities per batch, uint16 labels", loss: .sigmoid, shape: [3, 1, 4], labelShape: [3, 4],
                labelValues: [0, 1], dtype: .uint16, seed: 8, probabilities: true, arguments: ["--no-per-image"]) {
            $0.perImage = false
        },
        .random("hinge per image with an image all ignored", loss: .hinge, shape: [3, 5], labelShape: [3, 5],
                labelValues: [0, 1], dtype: .int32, seed: 10, arguments: ["--ignore-index", "7"]) {
            $0.ignoreIndex = 7
            for s in 5..<10 { $0.labels[s] = 7 }
        },
        LossCase(
            description: "hinge with tied errors, broken by pixel index",
            problem: .init(loss: .hinge, scores: [0.5, -0.5, -0.5, 0.5, 0.25], shape: [1, 5], labels: [1, 0, 0, 1, 0]),
            scoresFile: NumPyFixtures.float32([0.5, -0.5, -0.5, 0.5, 0.25], shape: [1, 5]),
            labelsFile: NumPyFixtures.integers([1, 0, 0, 1, 0] as [Int64], shape: [1, 5]),
            arguments: ["--loss", "hinge"]),
        LossCase(
            description: "softmax with tied probabilities",
            problem: .init(
                loss: .softmax, scores: [0.5, 0.5, 0.25, 0.5, 0.5, 0.75], shape: [1, 2, 3], labels: [0, 1, 1],
                probabilities: true),
            scoresFile: NumPyFixtures.float32([0.5, 0.5, 0.25, 0.5, 0.5, 0.75], shape: [1, 2, 3]),
            labelsFile: NumPyFixtures.integers([0, 1, 1] as [UInt8], shape: [1, 3]),
            arguments: ["--scores-are", "probabilities"]),
        .random("softmax with class weights", loss: .softmax, shape: [2, 3, 6], labelShape: [2, 6],
                labelValues: [0, 1, 2], dtype: .uint32, seed: 9, arguments: ["--classes", "all"]) {
            $0.classes = .all
            $0.weights = [0.5, 2, 1]
        },
    ]

    @Test("agrees with the naive definition", arguments: cases)
    func againstNaive(_ lossCase: LossCase) throws {
        var lossCase = lossCase
        if let weights = lossCase.problem.weights {
            lossCase.weightsFile = NumPyFixtures.float64(weights, shape: [weights.count])
        }
        let (json, gradient) = try Self.run(lossCase)
        let expected = NaiveLovasz.solve(lossCase.problem)
        let loss = try #require(json["loss"] as? Double)
        #expect(abs(loss - expected.loss) <= 1e-5 * max(1, abs(expected.loss)), "loss \(loss) vs \(expected.loss)")
        #expect(json["classesCounted"] as? Int == expected.classesCounted)
        #expect(gradient.shape == lossCase.problem.shape)
        let values = try #require(gradient.floats)
        let worst = zip(values, expected.gradient).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= 1e-6, "largest gradient difference \(worst)")
    }

    @Test("float64 and float16 scores are converted")
    func convertedScores() throws {
        // Values exact in float16: k/64.
        let probabilities: [Double] = [5, 40, 12, 60, 33, 2].map { $0 / 64 }
        let halfBits = probabilities.map { p in (0...UInt16.max).first { NumPyFixtures.halfValue(bits: $0) == p }! }
        let problem = NaiveLovasz.Problem(
            loss: .sigmoid, scores: probabilities, shape: [1, 6], labels: [0, 1, 0, 1, 1, 0], probabilities: true)
        let expected = NaiveLovasz.solve(problem)
        let labels = NumPyFixtures.integers([0, 1, 0, 1, 1, 0] as [Int64], shape: [1, 6])
        let files: [[UInt8]] = [
            NumPyFixtures.file(header: NumPyFixtures.header(descr: "<f2", shape: [1, 6]), data: NumPyFixtures.bytes(halfBits)),
            NumPyFixtures.float64(probabilities, shape: [1, 6]),
        ]
        for scores in files {
            let (json, gradient) = try Self.run(LossCase(
                description: "converted", problem: problem, scoresFile: scores, labelsFile: labels,
                arguments: ["--loss", "sigmoid", "--scores-are", "probabilities"]))
            #expect(abs(try #require(json["loss"] as? Double) - expected.loss) < 1e-6)
            #expect(zip(try #require(gradient.floats), expected.gradient).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        }
    }

    @Test("per image is the default for hinge and sigmoid, not for softmax")
    func perImageDefaults() throws {
        let directory = try LossFixtureDirectory()
        let values: [Float] = [2, -1, 0.5, 0.2, -0.3, 1.5, 0.1, -2]
        let binaryScores = try directory.file("b.npy", NumPyFixtures.float32(values, shape: [2, 4]))
        let binaryLabels = try directory.file("y.npy", NumPyFixtures.integers([1, 0, 1, 0, 0, 0, 1, 1] as [UInt8], shape: [2, 4]))
        let softmaxScores = try directory.file("s.npy", NumPyFixtures.float32(values, shape: [2, 2, 2]))
        let softmaxLabels = try directory.file("c.npy", NumPyFixtures.integers([0, 1, 1, 1] as [Int64], shape: [2, 2]))
        func loss(_ scores: String, _ labels: String, _ extra: [String]) throws -> Double {
            let outcome = try runLovasz(["loss", "--scores", scores, "--labels", labels, "--json", "--backend", "cpu"] + extra)
            #expect(outcome.status == 0, "\(outcome.standardError)")
            return try #require(try parseLossJSON(outcome.standardOutput)["loss"] as? Double)
        }
        func naive(_ kind: LovaszLoss, perImage: Bool) -> Double {
            let binary = kind != .softmax
            return NaiveLovasz.solve(.init(
                loss: kind, scores: values.map(Double.init), shape: binary ? [2, 4] : [2, 2, 2],
                labels: binary ? [1, 0, 1, 0, 0, 0, 1, 1] : [0, 1, 1, 1], perImage: perImage)).loss
        }
        for kind in [LovaszLoss.hinge, .sigmoid] {
            #expect(abs(naive(kind, perImage: true) - naive(kind, perImage: false)) > 1e-3, "the test can tell them apart")
            #expect(abs(try loss(binaryScores, binaryLabels, ["--loss", kind.rawValue]) - naive(kind, perImage: true)) < 1e-6)
            #expect(abs(try loss(binaryScores, binaryLabels, ["--loss", kind.rawValue, "--no-per-image"])
                - naive(kind, perImage: false)) < 1e-6)
        }
        #expect(abs(naive(.softmax, perImage: true) - naive(.softmax, perImage: false)) > 1e-3, "the test can tell them apart")
        #expect(abs(try loss(softmaxScores, softmaxLabels, []) - naive(.softmax, perImage: false)) < 1e-6)
        #expect(abs(try loss(softmaxScores, softmaxLabels, ["--per-image"]) - naive(.softmax, perImage: true)) < 1e-6)
    }
}
