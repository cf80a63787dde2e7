import Foundation

/// The table, curves and masks of the two training runs.
public struct TrainingReport: Sendable {
    /// The training data.
    public var scenes: TriangleScenes
    /// The runs, one per loss, from the same initial weights.
    public var runs: [TrainingRun]

    /// A report of `runs` on `scenes`.
    public init(scenes: TriangleScenes, runs: [TrainingRun]) {
        self.scenes = scenes
        self.runs = runs
    }

    static let colours: [TrainingLoss: RGB] = [.lovaszSoftmax: RGB(214, 39, 40), .crossEntropy: RGB(31, 119, 180)]

    /// Per-class IoU and the three mIoU, before training and after each run.
    public func table() -> String {
        guard let first = runs.first else { return "" }
        var table = TextTable(["", "before"] + runs.map { "after \($0.loss.rawValue)" })
        func cell(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "—" }
        let names = ["background", "class 1", "class 2"]
        for c in 0..<TriangleScenes.classCount {
            table.add(["IoU \(c) (\(names[c]))", cell(first.before.classIoU[c])] + runs.map { cell($0.after.classIoU[c]) })
        }
        table.add(["data-set mIoU", cell(first.before.datasetMIoU)] + runs.map { cell($0.after.datasetMIoU) })
        table.add(["image mIoU", cell(first.before.imageMIoU)] + runs.map { cell($0.after.imageMIoU) })
        table.add(["batch mIoU (present)", cell(first.before.batchMIoU)] + runs.map { cell($0.after.batchMIoU) })
        table.add(["seconds", ""] + runs.map { String(format: "%.1f", $0.seconds) })
        return table.render()
    }

    /// The batch loss of each run against the step.
    public func lossPlot() -> LinePlot {
        plot(title: "Training loss per step (each run minimises its own loss)", yLabel: "batch loss", curve: \.lossCurve)
    }

    /// The data-set mIoU of each run against the step.
    public func miouPlot() -> LinePlot {
        plot(title: "Data-set mIoU during training", yLabel: "mIoU", curve: \.miouCurve)
    }

    /// One curve of every run against the Adam step, one series per run.
    private func plot(title: String, yLabel: String, curve: KeyPath<TrainingRun, [CurvePoint]>) -> LinePlot {
        LinePlot(
            title: title, xLabel: "Adam step", yLabel: yLabel,
            series: runs.map { run in
                LinePlot.Series(name: run.loss.rawValue, colour: Self.colours[run.loss]!,
                                points: run[keyPath: curve].map { (x: Double($0.step), y: $0.value) })
            })
    }

    /// Both runs' curves: step, loss, and mIoU where evaluated.
    public func csv() -> String {
        var lines = ["run,step,batch_loss,dataset_miou"]
        for run in runs {
            let miou = Dictionary(run.miouCurve.map { ($0.step, $0.value) }, uniquingKeysWith: { a, _ in a })
            if let start = miou[0] { lines.append("\"\(run.loss.rawValue)\",0,,\(start)") }
            for point in run.lossCurve {
                lines.append("\"\(run.loss.rawValue)\",\(point.step),\(point.value),\(miou[point.step].map { String($0) } ?? "")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The column titles of ``masks()``.
    public var maskColumns: [String] { ["ground truth", "before training"] + runs.map { "after \($0.loss.rawValue)" } }

    /// A grid of masks in the Pascal VOC palette: one row per image, columns
    /// ``maskColumns``, separated by 4-pixel bands of the void colour.
    public func masks() -> RasterImage {
        let size = scenes.size, plane = size * size, gap = 4
        var columns = [scenes.labels]
        if let first = runs.first { columns.append(first.predictionsBefore) }
        columns += runs.map(\.predictionsAfter)
        let width = columns.count * size + (columns.count - 1) * gap
        let height = scenes.count * size + (scenes.count - 1) * gap
        var indices = [UInt8](repeating: TriangleScenes.void, count: width * height)
        for (column, masks) in columns.enumerated() {
            for image in 0..<scenes.count {
                for y in 0..<size {
                    let target = (image * (size + gap) + y) * width + column * (size + gap)
                    indices.replaceSubrange(target ..< target + size, with: masks[image * plane + y * size ..< image * plane + (y + 1) * size])
                }
            }
        }
        return RasterImage(width: width, height: height, indices: indices, palette: VOCPalette.colours)
    }
}
