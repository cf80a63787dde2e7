import ArgumentParser
import Lovasz
import LovaszNumPy

/// `lovasz loss`: one Lovász loss (and optionally its gradient) from `.npy` files (docs/DESIGN.md §4).
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

    @Option(help: ArgumentHelp(
        "The scores: float32 or float16 .npy (float16 is computed as it is: uploaded at half the bytes on OpenCL; float64 is converted).",
        valueName: "S.npy"))
    var scores: String

    @Option(help: ArgumentHelp("The labels: .npy of any integer dtype (or bool).", valueName: "Y.npy"))
    var labels: String

    @OptionGroup(title: "Loss options")
    var lossOptions: LossOptionArguments

    @Option(help: "auto (a GPU through OpenCL if usable, else the CPU), cpu, or opencl (fails with status 3 if unusable).")
    var backend: BackendChoice = .auto

    @Option(help: ArgumentHelp(
        "Write d loss / d scores as float32 .npy with the scores' shape (replaced atomically).",
        valueName: "G.npy"))
    var gradOut: String?

    /// The dtype `--grad-out` is written in.
    enum GradientDType: String, ExpressibleByArgument, CaseIterable {
        case float32, scores
    }

    @Option(help: "The dtype of --grad-out: float32, or scores (the scores' dtype: float16 scores give a float16 gradient, rounded once from the float32 one).")
    var gradDtype: GradientDType = .float32

    @Flag(help: "Print one JSON object instead of a line of text.")
    var json = false

    func run() throws {
        let inputs = try LossInputs(
            scoresPath: scores, labelsPath: labels, classWeightsPath: lossOptions.classWeights, loss: lossOptions.chosenLoss)
        if let gradOut { try LossInputs.checkWritable(gradOut) }
        let options = lossOptions.options(classWeights: inputs.classWeights)

        let engine: LovaszEngine
        do {
            engine = try LovaszEngine(backend: backend)
        } catch {
            throw CommandFailure(status: ExitStatus.openCLUnavailable, message: error.description)
        }
        let outcome = try inputs.compute(
            with: engine, options: options, gradient: gradOut != nil, gradientInScoreType: gradDtype == .scores)
        // Said after the computation, so that a failure prints its one line only.
        if let reason = engine.fallbackReason {
            StandardError.print("lovasz: using the CPU: " + ExitStatus.oneLine(reason))
        }
        if let gradOut, let bits = outcome.float16Gradient {
            try NumPyWriter.writeFloat16(bits: bits, shape: inputs.scoreShape, toFile: gradOut)
        } else if let gradOut, let gradient = outcome.gradient {
            try NumPyWriter.writeFloat32(gradient, shape: inputs.scoreShape, toFile: gradOut)
        }
        let report = LossReport(result: outcome.result, seconds: outcome.seconds)
        print(json ? report.json() : report.line(loss: options.loss, gradientFile: gradOut))
    }
}
