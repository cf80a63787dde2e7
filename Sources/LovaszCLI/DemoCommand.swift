import ArgumentParser
import Foundation
import Lovasz
import LovaszDemo

/// `lovasz demo`: the paper's Fig. 3 experiment and a training demo (Lovász-Softmax against
/// cross-entropy), with their tables printed and their pictures written.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Reproduce the paper's Fig. 3 finding and train a small network with Lovász-Softmax and cross-entropy.",
        discussion: """
            Part 1 (Sec. 4.1, Fig. 3): 10 synthetic 50x50 images with a disc each, one Gaussian \
            feature per pixel, and the classifier "foreground when f > -b" swept over b. Prints the \
            normalised Jaccard loss, Lovász hinge, hinge and binary cross-entropy, and checks that \
            only the Lovász hinge is minimised where the Jaccard loss is.

            Part 2: 5 images of random triangles (3 classes and an ignored void label) with noisy \
            one-hot features; a residual 3x3 convolutional network trained with Adam, once with \
            Lovász-Softmax and once with cross-entropy, from the same initial weights. Prints \
            per-class IoU and the data-set, image and batch mIoU before and after.

            Writes to the output directory: fig3-losses.svg, training-loss.svg and \
            training-miou.svg (each plot also as .png when rsvg-convert, inkscape or ImageMagick \
            is installed; scripts/install-deps installs rsvg-convert), fig3-losses.csv, \
            training-curves.csv, masks.png and masks.ppm (Pascal VOC colours). Every draw is \
            seeded: two runs print the same numbers, on every backend. Takes under a minute on 2 \
            cores in a release build (swift run -c release lovasz demo); --quick runs a tiny \
            version in seconds.

            Exit status: 0 on success; 2 when the output directory cannot be written or an option \
            is invalid; 3 when --backend opencl cannot use OpenCL.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the pictures (created if missing).", valueName: "DIR"))
    var output: String = "lovasz-demo"

    @Flag(help: "A tiny version for tests: 48x48 training images and 30 steps per loss.")
    var quick = false

    @Option(help: ArgumentHelp("Adam steps per loss (default: 300, or 30 with --quick).", valueName: "N"))
    var steps: Int?

    @Option(help: ArgumentHelp("Side of the training images in pixels, 8 to 1024 (default: 200, or 48 with --quick).", valueName: "N"))
    var size: Int?

    @Option(help: ArgumentHelp("Standard deviation of the noise on the training features, 0 to 10 (default: 1.5).", valueName: "SIGMA"))
    var noise: Double?

    @Option(help: "The backend of the Lovász losses.")
    var backend: BackendChoice = .auto

    @Flag(name: .customLong("no-progress"), help: "Do not show training progress on stderr.")
    var noProgress = false

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, not \(steps)") }
        if let size, !(8...1024).contains(size) { throw ValidationError("--size must be between 8 and 1024, not \(size)") }
        if let noise, !(0...10).contains(noise) { throw ValidationError("--noise must be between 0 and 10, not \(noise)") }
    }

    func run() throws {
        var configuration = quick
            ? DemoConfiguration.quick(outputDirectory: output, backend: backend)
            : DemoConfiguration(outputDirectory: output, backend: backend)
        if let steps { configuration.training.steps = steps }
        if let size { configuration.imageSize = size }
        if let noise { configuration.noise = noise }

        let progress = ProgressLine(enabled: !noProgress)
        #if DEBUG
        if !quick && (configuration.imageSize >= 100 || configuration.training.steps >= 100) {
            progress.note(
                "note: this lovasz is a debug build: the full demo takes tens of minutes here, "
                    + "under a minute with `swift run -c release lovasz demo` (or try --quick)")
        }
        #endif
        do {
            _ = try DemoRunner.run(
                configuration,
                emit: { text in
                    progress.clear()
                    // Unbuffered, so that the report and the progress on stderr interleave in order;
                    // a closed stdout (`lovasz demo | head`) does not stop the pictures being written.
                    try? FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
                },
                progress: { progress.show($0) })
            progress.clear()
        } catch {
            progress.clear()
            try? FileHandle.standardError.write(contentsOf: Data("lovasz: \(error.description)\n".utf8))
            switch error {
            case .lovasz(.openCLUnavailable), .lovasz(.openCL): throw ExitCode(3)
            case .output: throw ExitCode(2)
            case .lovasz: throw ExitCode(1)
            }
        }
    }
}

/// Training progress on stderr: one line redrawn in place on a terminal, otherwise a line
/// at every tenth of a run.
final class ProgressLine {
    private let enabled: Bool
    private let interactive: Bool
    private var visible = false

    init(enabled: Bool) {
        self.enabled = enabled
        self.interactive = isatty(STDERR_FILENO) != 0
    }

    func show(_ progress: TrainingProgress) {
        guard enabled else { return }
        let text = "  training with \(progress.loss.rawValue): step \(progress.step)/\(progress.steps)"
            + String(format: "  batch loss %.4f  data-set mIoU %.3f", progress.batchLoss, progress.datasetMIoU)
        if interactive {
            write("\r\u{1B}[K" + text)
            visible = true
        } else if progress.step == progress.steps || progress.step % max(1, progress.steps / 10) == 0 {
            write(text + "\n")
        }
    }

    /// Prints a line on stderr whether or not progress is shown.
    func note(_ line: String) {
        clear()
        write(line + "\n")
    }

    func clear() {
        if visible {
            write("\r\u{1B}[K")
            visible = false
        }
    }

    private func write(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }
}
