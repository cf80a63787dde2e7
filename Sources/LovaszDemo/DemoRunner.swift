public import Lovasz
import Foundation

/// What `lovasz demo` runs.
public struct DemoConfiguration: Sendable {
    /// Where the pictures and CSV files go (created when missing).
    public var outputDirectory: String
    /// The backend of the Lovász losses (`auto` by default).
    public var backend: BackendChoice
    /// The seed of the Fig. 3 data (10 images of 50x50).
    public var sweepSeed: UInt64 = 2018
    /// The seed of the training scenes.
    public var scenesSeed: UInt64 = 1
    /// Training images and their side in pixels.
    public var imageCount = 5
    public var imageSize = 200
    /// The standard deviation of the feature noise.
    public var noise = 1.5
    public var training = TrainingSettings()

    /// The full demo: 5 images of 200x200, 300 Adam steps per loss.
    public init(outputDirectory: String = "lovasz-demo", backend: BackendChoice = .auto) {
        self.outputDirectory = outputDirectory
        self.backend = backend
    }

    /// A tiny version for tests: 5 images of 48x48 and 30 steps per loss.
    public static func quick(outputDirectory: String = "lovasz-demo", backend: BackendChoice = .auto) -> DemoConfiguration {
        var configuration = DemoConfiguration(outputDirectory: outputDirectory, backend: backend)
        configuration.imageSize = 48
        configuration.training.steps = 30
        configuration.training.evaluateEvery = 5
        return configuration
    }
}

/// Why the demo stopped.
public enum DemoError: Error, Sendable, CustomStringConvertible {
    /// The Lovász engine refused (for example `--backend opencl` without OpenCL).
    case lovasz(LovaszError)
    /// A file or directory could not be written.
    case output(path: String, reason: String)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case .lovasz(let error): return error.description
        case .output(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}

/// What the demo computed and wrote.
public struct DemoResult: Sendable {
    /// The Fig. 3 experiment.
    public var sweep: BiasSweep
    /// The two training runs.
    public var training: TrainingReport
    /// The files written, as absolute paths.
    public var files: [String]
    /// Why the plots have no PNG copies, when they have none (the SVGs are always written).
    public var conversionNote: String?
}

/// Runs the paper's Fig. 3 experiment and the training demo, prints their tables and writes
/// their pictures.
public enum DemoRunner {
    /// - Parameters:
    ///   - configuration: sizes, seeds, backend and output directory.
    ///   - emit: receives the report, a few lines at a time (for standard output).
    ///   - progress: called after every training step (for a progress display).
    /// - Throws: ``DemoError``.
    public static func run(
        _ configuration: DemoConfiguration,
        emit: (String) -> Void,
        progress: (TrainingProgress) -> Void = { _ in }
    ) throws(DemoError) -> DemoResult {
        let directory = URL(fileURLWithPath: configuration.outputDirectory).standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .output(path: directory.path, reason: Self.reason(error))
        }
        let engine: LovaszEngine
        do { engine = try LovaszEngine(backend: configuration.backend) } catch { throw .lovasz(error) }
        var backendLine = "Lovász losses computed by: \(engine.backend.rawValue) — \(engine.device)"
        if let reason = engine.fallbackReason { backendLine += " (auto fell back to the CPU: \(reason))" }
        emit(backendLine)

        var files = [String]()
        func write(_ name: String, _ bytes: [UInt8]) throws(DemoError) {
            let url = directory.appendingPathComponent(name)
            do { try Data(bytes).write(to: url) } catch { throw .output(path: url.path, reason: Self.reason(error)) }
            files.append(url.path)
        }

        // Part 1: Sec. 4.1 / Fig. 3.
        let circles = SyntheticCircles(seed: configuration.sweepSeed)
        let sweep: BiasSweep
        do { sweep = try BiasSweep(data: circles, engine: engine) } catch { throw .lovasz(error) }
        emit("""

        == 1. The paper's Sec. 4.1 / Fig. 3: which loss is minimised where the Jaccard loss is? ==
        \(circles.count) images of \(circles.size)x\(circles.size), one disc each (\(String(format: "%.1f", 100 * circles.foregroundFraction)) % foreground), \
        feature f ~ N(+1/2, 1) inside, N(−1/2, 1) outside;
        classifier "foreground when f > −b", b from \(sweep.biases.first!) to \(sweep.biases.last!) by \(String(format: "%.2g", sweep.step)); \
        losses over the whole data set, normalised to [0, 1]:

        \(sweep.report())
        """)
        try write("fig3-losses.svg", Array(sweep.plot().svg().utf8))
        try write("fig3-losses.csv", Array(sweep.csv().utf8))
        var conversionNote: String?
        /// A PNG copy of plot `name`.svg, through the first SVG converter that works.
        func convertPlot(_ name: String) {
            let png = directory.appendingPathComponent(name + ".png")
            switch SVGConverter.convert(svg: directory.appendingPathComponent(name + ".svg"), to: png) {
            case .converted: files.append(png.path)
            case .unavailable(let why): conversionNote = "no PNG copies of the plots: \(why)"
            }
        }
        convertPlot("fig3-losses")

        // Part 2: training with Lovász-Softmax and with cross-entropy.
        let scenes = TriangleScenes(count: configuration.imageCount, size: configuration.imageSize, noise: configuration.noise, seed: configuration.scenesSeed)
        let settings = configuration.training
        let trainer: SegmentationTrainer
        let sampler: Equibatch
        do {
            trainer = try SegmentationTrainer(scenes: scenes, settings: settings, engine: engine)
            sampler = try Equibatch(presence: scenes.presence, classCount: TriangleScenes.classCount, seed: settings.seed)
        } catch { throw .lovasz(error) }
        emit("""

        == 2. Training a small network with Lovász-Softmax and with cross-entropy ==
        \(scenes.count) images of \(scenes.size)x\(scenes.size): random triangles of classes 1 and 2 on background 0, a void band (255, ignored)
        on every boundary, features = one-hot + N(0, \(configuration.noise)) noise. Network: features → 3x3 conv (\(settings.hidden) channels) → ReLU
        → 3x3 conv + skip → logits; Adam (lr \(settings.learningRate)), \(settings.steps) steps of \(settings.batchSize) images drawn by equibatch
        (every class in every \(sampler.window) consecutive images), the same initial weights for both runs.
        """)
        var runs = [TrainingRun]()
        for loss in TrainingLoss.allCases {
            do { runs.append(try trainer.train(loss, progress: progress)) } catch { throw .lovasz(error) }
        }
        let report = TrainingReport(scenes: scenes, runs: runs)
        emit("""

        \(report.table())

        (Lovasz's ConfusionMatrix and ImageMeanIoU. Data-set mIoU pools every pixel; image mIoU averages per-image
        scores; batch mIoU averages, over batches of \(settings.batchSize), the IoU of the classes present in each batch's
        ground truth — what a batch Lovász-Softmax loss optimises; Sec. 3.1 explains why they differ.)
        """)
        try write("training-loss.svg", Array(report.lossPlot().svg().utf8))
        try write("training-miou.svg", Array(report.miouPlot().svg().utf8))
        if conversionNote == nil {
            convertPlot("training-loss")
            convertPlot("training-miou")
        }
        try write("training-curves.csv", Array(report.csv().utf8))
        let masks = report.masks()
        try write("masks.png", masks.pngData())
        try write("masks.ppm", masks.ppmData())

        var closing = "\nPictures written to \(directory.path):\n"
        closing += files.map { "  " + ($0 as NSString).lastPathComponent }.joined(separator: "\n")
        closing += "\n  (masks: one row per image; columns: \(report.maskColumns.joined(separator: " | ")); Pascal VOC colours)"
        if let conversionNote { closing += "\n  \(conversionNote)" }
        emit(closing)
        return DemoResult(sweep: sweep, training: report, files: files, conversionNote: conversionNote)
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}
