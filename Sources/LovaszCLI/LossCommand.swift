import ArgumentParser
import Lovasz

/// `lovasz loss`: one Lovász loss (and optionally its gradient) from `.npy` files (DESIGN §4).
struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Compute a Lovász loss, and optionally its gradient, from .npy files.",
        discussion: """
            Scores are float32 .npy in C order (float16 and float64 are converted): [B, C, ...] \
            for softmax; [B, ...] or [B, 1, ...] for hinge and sigmoid. Labels are .npy of any \
            integer dtype (or bool): the scores' shape without axis 1 for softmax; for hinge and \
            sigmoid the scores' shape, or [B, ...] when the scores are [B, 1, ...]. Labels are \
            class indices 0..<C (0 or 1 for the binary losses), or the --ignore-index value.

            Prints one line, or with --json one JSON object with the keys loss, backend, device, \
            classesCounted, seconds (the time spent computing, without file I/O) and segments.

            Exit status: 0 on success; 2 with one line `lovasz: <message>` on stderr for bad \
            input (missing file, malformed .npy, shape mismatch, bad label, NaN, bad option); \
            3 when --backend opencl cannot use OpenCL. No gradient file is written on failure.

            Example: lovasz loss --scores logits.npy --labels labels.npy --ignore-index 255 \
            --grad-out grad.npy --json
            """
    )

    /// The losses, as spelled on the command line.
    enum LossArgument: String, ExpressibleByArgument, CaseIterable {
        case softmax, hinge, sigmoid
        var loss: LovaszLoss {
            switch self {
            case .softmax: return .softmax
            case .hinge: return .hinge
            case .sigmoid: return .sigmoid
            }
        }
    }

    /// How the scores are read, as spelled on the command line.
    enum ScoresArgument: String, ExpressibleByArgument, CaseIterable {
        case logits, probabilities
        var interpretation: ScoreInterpretation { self == .logits ? .logits : .probabilities }
    }

    @Option(help: ArgumentHelp("The scores: float32 .npy (float16/float64 are converted).", valueName: "S.npy"))
    var scores: String

    @Option(help: ArgumentHelp("The labels: .npy of any integer dtype (or bool).", valueName: "Y.npy"))
    var labels: String

    @Option(help: "The loss.")
    var loss: LossArgument = .softmax

    @Option(help: "Whether the scores are logits or probabilities (the hinge takes logits); the gradient is with respect to them.")
    var scoresAre: ScoresArgument = .logits

    @Option(
        help: ArgumentHelp(
            "The classes counted by the softmax loss: present (those with a pixel in the group), all, or a list such as 0,3,7 (always counted). (default: present)",
            valueName: "present|all|0,3,7"),
        transform: LossCommand.parseClasses)
    var classes: ClassSelection = .present

    @Flag(
        inversion: .prefixedNo,
        help: "One group per image, the loss being the mean over images (default: off for softmax, on for hinge and sigmoid).")
    var perImage: Bool?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Pixels with this label are left out: no loss, zero gradient (may be negative).", valueName: "N"))
    var ignoreIndex: Int?

    @Option(help: ArgumentHelp("Softmax only: a 1-d .npy of C non-negative class weights (a weighted mean).", valueName: "W.npy"))
    var classWeights: String?

    @Option(help: "auto (a GPU through OpenCL if usable, else the CPU), cpu, or opencl (fails with status 3 if unusable).")
    var backend: BackendChoice = .auto

    @Option(help: ArgumentHelp(
        "Write d loss / d scores as float32 .npy with the scores' shape (replaced atomically).",
        valueName: "G.npy"))
    var gradOut: String?

    @Flag(help: "Print one JSON object instead of a line of text.")
    var json = false

    /// Parses `--classes`: `present`, `all` or a comma-separated list of class indices.
    static func parseClasses(_ text: String) throws -> ClassSelection {
        let trimmed = text.filter { !$0.isWhitespace }
        switch trimmed.lowercased() {
        case "present": return .present
        case "all": return .all
        default: break
        }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
        let classes = parts.compactMap { Int($0) }
        guard !trimmed.isEmpty, classes.count == parts.count, classes.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("expected present, all, or class indices separated by commas such as 0,3,7")
        }
        return .explicit(classes)
    }

    func run() throws {
        let inputs = try LossInputs(
            scoresPath: scores, labelsPath: labels, classWeightsPath: classWeights, loss: loss.loss)
        if let gradOut { try LossInputs.checkWritable(gradOut) }
        let options = LossOptions(
            loss: loss.loss, scoresAre: scoresAre.interpretation, classes: classes,
            classWeights: inputs.classWeights, perImage: perImage, ignoreIndex: ignoreIndex)

        let engine: LovaszEngine
        do {
            engine = try LovaszEngine(backend: backend)
        } catch {
            throw CommandFailure(status: ExitStatus.openCLUnavailable, message: error.description)
        }
        let outcome = try inputs.compute(with: engine, options: options, gradient: gradOut != nil)
        // Said after the computation, so that a failure prints its one line only.
        if let reason = engine.fallbackReason {
            ExitStatus.printError("lovasz: using the CPU: " + ExitStatus.oneLine(reason))
        }
        if let gradOut, let gradient = outcome.gradient {
            try NumPyWriter.writeFloat32(gradient, shape: inputs.scoreShape, toFile: gradOut)
        }
        let report = LossReport(result: outcome.result, seconds: outcome.seconds)
        print(json ? report.json() : report.line(loss: loss.loss, gradientFile: gradOut))
    }
}
