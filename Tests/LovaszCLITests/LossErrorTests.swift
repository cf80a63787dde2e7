import Foundation
import Lovasz
import LovaszTestSupport
import Testing

/// A bad invocation of `lovasz loss` and what its one-line message must mention.
struct LossFailureCase: CustomStringConvertible {
    var description: String
    /// Files written before the run, by name.
    var files: [String: [UInt8]]
    /// The arguments after `lovasz`; `@name` is replaced by the path of `name` in the directory.
    var arguments: [String]
    /// Texts the message must contain.
    var mentions: [String]
    /// Directories created before the run.
    var directories: [String] = []
}

/// Valid inputs the failure cases start from: softmax scores [1, 3, 4] and labels [1, 4].
enum LossInputsFixture {
    static let scores: [Float] = [1, 0.5, -1, 2, 0, 0.1, 3, -2, 0.3, 0.2, 0.1, 1]
    static let softmaxScores = NumPyFixtures.float32(scores, shape: [1, 3, 4])
    static let softmaxLabels = NumPyFixtures.integers([0, 2, 1, 1] as [Int64], shape: [1, 4])
    static let binaryScores = NumPyFixtures.float32([2, -1, 0.5, 0.2, 1, 1, -1, 0], shape: [2, 4])
    static let binaryLabels = NumPyFixtures.integers([1, 0, 1, 0, 0, 0, 1, 1] as [UInt8], shape: [2, 4])
    static let valid: [String: [UInt8]] = [
        "s.npy": softmaxScores, "y.npy": softmaxLabels, "b.npy": binaryScores, "z.npy": binaryLabels,
    ]
    static let softmax = ["loss", "--scores", "@s.npy", "--labels", "@y.npy", "--grad-out", "@g.npy"]
    static let hinge = ["loss", "--loss", "hinge", "--scores", "@b.npy", "--labels", "@z.npy", "--grad-out", "@g.npy"]

    static func with(_ extra: [String: [UInt8]]) -> [String: [UInt8]] { valid.merging(extra) { $1 } }
}

@Suite("lovasz loss: bad input exits with status 2")
struct LossErrorTests {
    typealias F = LossInputsFixture

    static let cases: [LossFailureCase] = [
        .init(description: "missing scores file", files: F.valid,
              arguments: ["loss", "--scores", "@missing.npy", "--labels", "@y.npy", "--grad-out", "@g.npy"],
              mentions: ["cannot read the scores", "missing.npy", "No such file"]),
        .init(description: "missing labels file", files: F.valid,
              arguments: ["loss", "--scores", "@s.npy", "--labels", "@nothing.npy", "--grad-out", "@g.npy"],
              mentions: ["cannot read the labels", "nothing.npy"]),
        .init(description: "scores truncated in the data", files: F.with(["s.npy": Array(F.softmaxScores.dropLast(5))]),
              arguments: F.softmax, mentions: ["scores", "truncated"]),
        .init(description: "labels truncated in the header", files: F.with(["y.npy": Array(F.softmaxLabels.prefix(30))]),
              arguments: F.softmax, mentions: ["labels", "truncated"]),
        .init(description: "labels that are not .npy", files: F.with(["y.npy": Array("0,2,1,1\n".utf8)]),
              arguments: F.softmax, mentions: ["labels", "not a NumPy"]),
        .init(description: "an empty scores file", files: F.with(["s.npy": []]),
              arguments: F.softmax, mentions: ["scores", "empty"]),
        .init(description: "float labels", files: F.with(["y.npy": NumPyFixtures.float32([0, 2, 1, 1], shape: [1, 4])]),
              arguments: F.softmax, mentions: ["float32", "labels must be integers"]),
        .init(description: "integer scores",
              files: F.with(["s.npy": NumPyFixtures.integers([Int32](repeating: 1, count: 12), shape: [1, 3, 4])]),
              arguments: F.softmax, mentions: ["int32", "scores must be float32"]),
        .init(description: "bool scores", files: F.with(["s.npy": NumPyFixtures.booleans([true], shape: [1, 1, 1])]),
              arguments: F.softmax, mentions: ["bool", "scores must be float32"]),
        .init(description: "Fortran-order scores",
              files: F.with(["s.npy": NumPyFixtures.file(
                  header: NumPyFixtures.header(descr: "<f4", shape: [1, 3, 4], fortranOrder: true),
                  data: NumPyFixtures.bytes(F.scores.map(\.bitPattern)))]),
              arguments: F.softmax, mentions: ["Fortran"]),
        .init(description: "softmax labels of the wrong shape",
              files: F.with(["y.npy": NumPyFixtures.integers([0, 1, 2, 0, 1] as [Int64], shape: [1, 5])]),
              arguments: F.softmax, mentions: ["[1, 5]", "[1, 3, 4]", "[1, 4]"]),
        .init(description: "softmax labels with the class axis",
              files: F.with(["y.npy": NumPyFixtures.integers([Int64](repeating: 0, count: 12), shape: [1, 3, 4])]),
              arguments: F.softmax, mentions: ["labels", "have shape [1, 3, 4]", "need labels of shape [1, 4]"]),
        .init(description: "hinge labels of the wrong shape",
              files: F.with(["z.npy": NumPyFixtures.integers([0, 1, 1, 0, 0, 1] as [UInt8], shape: [2, 3])]),
              arguments: F.hinge, mentions: ["[2, 3]", "[2, 4]"]),
        .init(description: "softmax scores with one dimension",
              files: F.with(["s.npy": NumPyFixtures.float32([1, 2, 3, 4], shape: [4])]),
              arguments: F.softmax, mentions: ["[4]", "[B, C, ...]"]),
        .init(description: "0-d hinge scores", files: F.with(["b.npy": NumPyFixtures.float32([1], shape: [])]),
              arguments: F.hinge, mentions: ["0-d"]),
        .init(description: "an empty batch",
              files: F.with(["s.npy": NumPyFixtures.float32([], shape: [0, 3, 4]),
                             "y.npy": NumPyFixtures.integers([] as [Int64], shape: [0, 4])]),
              arguments: F.softmax, mentions: ["empty input", "batch"]),
        .init(description: "a label equal to the number of classes",
              files: F.with(["y.npy": NumPyFixtures.integers([0, 2, 3, 1] as [Int64], shape: [1, 4])]),
              arguments: F.softmax, mentions: ["label 3", "[0, 2]", "0..<3"]),
        .init(description: "a negative label that is not ignored",
              files: F.with(["y.npy": NumPyFixtures.integers([0, -1, 1, 1] as [Int8], shape: [1, 4])]),
              arguments: F.softmax + ["--ignore-index", "255"], mentions: ["label -1", "[0, 1]"]),
        .init(description: "a binary label 2",
              files: F.with(["z.npy": NumPyFixtures.integers([1, 0, 1, 0, 0, 2, 1, 1] as [UInt8], shape: [2, 4])]),
              arguments: F.hinge, mentions: ["label 2", "[1, 1]", "0 or 1"]),
        .init(description: "a NaN score",
              files: F.with(["s.npy": NumPyFixtures.float32(
                  F.scores.enumerated().map { $0.offset == 6 ? .nan : $0.element }, shape: [1, 3, 4])]),
              arguments: F.softmax, mentions: ["non-finite score nan", "[0, 1, 2]"]),
        .init(description: "an infinite float64 score",
              files: F.with(["s.npy": NumPyFixtures.float64(
                  F.scores.enumerated().map { $0.offset == 11 ? 1e300 : Double($0.element) }, shape: [1, 3, 4])]),
              arguments: F.softmax, mentions: ["non-finite score inf", "[0, 2, 3]", "float64"]),
        .init(description: "an unknown option", files: F.valid, arguments: F.softmax + ["--frobnicate"],
              mentions: ["--frobnicate", "lovasz loss --help"]),
        .init(description: "a missing required option", files: F.valid, arguments: ["loss", "--scores", "@s.npy"],
              mentions: ["--labels"]),
        .init(description: "an unknown subcommand", files: F.valid, arguments: ["losss"], mentions: ["losss"]),
        .init(description: "--classes with an empty item", files: F.valid, arguments: F.softmax + ["--classes", "0,,2"],
              mentions: ["--classes", "0,,2"]),
        .init(description: "--classes with a word", files: F.valid, arguments: F.softmax + ["--classes", "some"],
              mentions: ["--classes", "some"]),
        .init(description: "--classes with a negative class", files: F.valid, arguments: F.softmax + ["--classes", "-1"],
              mentions: ["--classes"]),
        .init(description: "--classes naming a class out of range", files: F.valid, arguments: F.softmax + ["--classes", "0,5"],
              mentions: ["class 5", "0..<3"]),
        .init(description: "--classes naming a class twice", files: F.valid, arguments: F.softmax + ["--classes", "1,1"],
              mentions: ["twice"]),
        .init(description: "--classes with the hinge", files: F.valid, arguments: F.hinge + ["--classes", "all"],
              mentions: ["softmax"]),
        .init(description: "an unknown loss", files: F.valid, arguments: F.softmax + ["--loss", "dice"],
              mentions: ["dice", "softmax", "hinge", "sigmoid"]),
        .init(description: "an unknown backend", files: F.valid, arguments: F.softmax + ["--backend", "cuda"],
              mentions: ["cuda"]),
        .init(description: "a non-numeric ignore index", files: F.valid, arguments: F.softmax + ["--ignore-index", "x"],
              mentions: ["--ignore-index"]),
        .init(description: "probabilities for the hinge", files: F.valid, arguments: F.hinge + ["--scores-are", "probabilities"],
              mentions: ["hinge", "logits"]),
        .init(description: "class weights of the wrong length",
              files: F.with(["w.npy": NumPyFixtures.float32([1, 2], shape: [2])]),
              arguments: F.softmax + ["--class-weights", "@w.npy"], mentions: ["2 class weights for 3 classes"]),
        .init(description: "class weights that are 2-d",
              files: F.with(["w.npy": NumPyFixtures.float32([1, 2, 3], shape: [1, 3])]),
              arguments: F.softmax + ["--class-weights", "@w.npy"], mentions: ["class weights", "[1, 3]", "1-d"]),
        .init(description: "a negative class weight",
              files: F.with(["w.npy": NumPyFixtures.float32([1, -2, 3], shape: [3])]),
              arguments: F.softmax + ["--class-weights", "@w.npy"], mentions: ["class weight -2.0"]),
        .init(description: "a missing class-weights file", files: F.valid,
              arguments: F.softmax + ["--class-weights", "@w.npy"], mentions: ["cannot read the class weights"]),
        .init(description: "class weights with the hinge",
              files: F.with(["w.npy": NumPyFixtures.float32([1, 1], shape: [2])]),
              arguments: F.hinge + ["--class-weights", "@w.npy"], mentions: ["softmax"]),
        .init(description: "a gradient file in a missing directory", files: F.valid,
              arguments: ["loss", "--scores", "@s.npy", "--labels", "@y.npy", "--grad-out", "@no/such/g.npy"],
              mentions: ["gradient", "does not exist"]),
        .init(description: "a gradient file that is a directory", files: F.valid,
              arguments: ["loss", "--scores", "@s.npy", "--labels", "@y.npy", "--grad-out", "@d"],
              mentions: ["gradient", "is a directory"], directories: ["d"]),
    ]

    @Test("one line on stderr, status 2, no gradient file", arguments: cases)
    func failure(_ failure: LossFailureCase) throws {
        let directory = try LossFixtureDirectory()
        for (name, bytes) in failure.files { try directory.file(name, bytes) }
        for name in failure.directories {
            try FileManager.default.createDirectory(atPath: directory.path(name), withIntermediateDirectories: false)
        }
        let arguments = failure.arguments.map { $0.hasPrefix("@") ? directory.path(String($0.dropFirst())) : $0 }
        let outcome = try runLovasz(arguments)
        #expect(!outcome.killedBySignal)
        #expect(outcome.status == 2, "status \(outcome.status): \(outcome.standardError)")
        #expect(outcome.standardOutput.isEmpty)
        let lines = outcome.standardError.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "exactly one line: \(outcome.standardError)")
        #expect(outcome.standardError.hasPrefix("lovasz: "))
        for text in failure.mentions {
            #expect(outcome.standardError.contains(text), "\(outcome.standardError) should mention \(text)")
        }
        let expected = (Array(failure.files.keys) + failure.directories).sorted()
        #expect(try directory.contents() == expected, "no gradient or temporary file is left")
    }

    @Test("a failed run leaves an existing gradient file as it was")
    func existingGradientKept() throws {
        let directory = try LossFixtureDirectory()
        for (name, bytes) in F.valid { try directory.file(name, bytes) }
        let arguments = F.softmax.map { $0.hasPrefix("@") ? directory.path(String($0.dropFirst())) : $0 }
        #expect(try runLovasz(arguments + ["--backend", "cpu"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: directory.path("g.npy")))
        try directory.file("y.npy", NumPyFixtures.integers([0, 7, 1, 1] as [Int64], shape: [1, 4]))
        let outcome = try runLovasz(arguments + ["--backend", "cpu"])
        #expect(outcome.status == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path("g.npy"))) == before)
        #expect(try directory.contents() == ["b.npy", "g.npy", "s.npy", "y.npy", "z.npy"])
    }
}
