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
            input (missing file, malformed .npy, shape mismatch, bad label, NaN, a probability \
            outside [0, 1], bad option), memory exhaustion, or a result stdout cannot take; \
            3 when --backend opencl cannot use OpenCL. No gradient file is written on failure.

            --grad-out replaces a regular file atomically (keeping its permission bits), follows \
            symbolic links (the link stays, its target receives the file), writes through to a \
            character device or a FIFO, and refuses a directory, a block device or a socket \
            before any work.

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
        "Write d loss / d scores as float32 .npy with the scores' shape (a regular file is replaced atomically).",
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
        let gradientOutput = try gradOut.map { (path) throws(CommandFailure) in try LossInputs.gradientOutput(path) }
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
        if let gradientOutput, let bits = outcome.float16Gradient {
            try gradientOutput.write(try NumPyWriter.float16Bytes(bits: bits, shape: inputs.scoreShape))
        } else if let gradientOutput, let gradient = outcome.gradient {
            try gradientOutput.write(try NumPyWriter.float32Bytes(gradient, shape: inputs.scoreShape))
        }
        let report = LossReport(result: outcome.result, seconds: outcome.seconds)
        print(json ? report.json() : report.line(loss: options.loss, gradientFile: gradOut))
    }
}
