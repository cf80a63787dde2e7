public import Lovasz
import Foundation

/// The loss a training run minimises.
public enum TrainingLoss: String, Sendable, CaseIterable, Hashable {
    /// The Lovász-Softmax loss over the batch, present classes, void ignored, computed by
    /// ``Lovasz/LovaszEngine``.
    case lovaszSoftmax = "Lovász-Softmax"
    /// The softmax cross-entropy averaged over non-void pixels.
    case crossEntropy = "cross-entropy"
}

/// The settings of a training run.
public struct TrainingSettings: Sendable, Hashable {
    /// Adam steps, `≥ 1`.
    public var steps: Int
    /// Images per step, drawn by ``Lovasz/Equibatch``, `≥ 1`.
    public var batchSize: Int
    /// Channels of the hidden layer, `≥ 1`.
    public var hidden: Int
    /// Adam's learning rate, `> 0`.
    public var learningRate: Float
    /// Evaluate the data-set mIoU every this many steps (and after the last), `≥ 1`.
    public var evaluateEvery: Int
    /// The seed of the initial weights and of the batch sampler.
    public var seed: UInt64

    /// Settings; the defaults are those of `lovasz demo`.
    public init(steps: Int = 300, batchSize: Int = 2, hidden: Int = 8, learningRate: Float = 0.02, evaluateEvery: Int = 10, seed: UInt64 = 7) {
        self.steps = steps
        self.batchSize = batchSize
        self.hidden = hidden
        self.learningRate = learningRate
        self.evaluateEvery = evaluateEvery
        self.seed = seed
    }
}

/// One point of a training curve.
public struct CurvePoint: Sendable, Hashable {
    /// The Adam step (0: before training).
    public var step: Int
    /// The value at that step.
    public var value: Double
}

/// Where a run is, reported after every step.
public struct TrainingProgress: Sendable {
    /// The loss being trained.
    public var loss: TrainingLoss
    /// The step just taken, `1...steps`.
    public var step: Int
    /// The steps of the run.
    public var steps: Int
    /// The loss of the batch of this step.
    public var batchLoss: Double
    /// The latest evaluated data-set mIoU.
    public var datasetMIoU: Double
}

/// What a training run produced.
public struct TrainingRun: Sendable {
    /// The loss that was minimised.
    public var loss: TrainingLoss
    /// The batch loss at every step.
    public var lossCurve: [CurvePoint]
    /// The data-set mIoU at step 0 and at every evaluation.
    public var miouCurve: [CurvePoint]
    /// Scores of the untrained network (the arg-max of the noisy features, nearly).
    public var before: SegmentationScores
    /// Scores after the last step.
    public var after: SegmentationScores
    /// Predicted classes `[images, size, size]` before and after training.
    public var predictionsBefore: [UInt8]
    public var predictionsAfter: [UInt8]
    /// Wall-clock seconds of the run.
    public var seconds: Double
}

/// Trains the demo's residual convolutional network on ``TriangleScenes`` with Adam.
public struct SegmentationTrainer {
    /// The training data.
    public let scenes: TriangleScenes
    /// Steps, batch size, network width, learning rate, seed.
    public let settings: TrainingSettings
    /// Computes the Lovász-Softmax loss and its gradient.
    public let engine: LovaszEngine

    /// A trainer of a network of `settings.hidden` channels on `scenes`.
    ///
    /// - Throws: ``Lovasz/LovaszError/invalidOption(_:)`` for settings out of range.
    public init(scenes: TriangleScenes, settings: TrainingSettings, engine: LovaszEngine) throws(LovaszError) {
        guard settings.steps >= 1, settings.batchSize >= 1, settings.hidden >= 1, settings.evaluateEvery >= 1,
              settings.learningRate > 0, settings.learningRate.isFinite else {
            throw .invalidOption("training needs at least 1 step, batch, hidden channel and evaluation interval, and a positive learning rate")
        }
        self.scenes = scenes
        self.settings = settings
        self.engine = engine
    }

    /// The fixed partition of the images into consecutive batches used for the batch mIoU.
    public var evaluationBatches: [[Int]] {
        stride(from: 0, to: scenes.count, by: settings.batchSize).map { Array($0 ..< min(scenes.count, $0 + settings.batchSize)) }
    }

    /// Runs `settings.steps` Adam steps from the seeded initial weights (the same for every
    /// loss, so runs are comparable).
    ///
    /// - Parameter progress: called after every step.
    /// - Throws: ``Lovasz/LovaszError`` from the engine.
    public func train(_ loss: TrainingLoss, progress: (TrainingProgress) -> Void = { _ in }) throws(LovaszError) -> TrainingRun {
        let start = Date()
        let classes = TriangleScenes.classCount, size = scenes.size, plane = size * size
        var net = ResidualConvNet(channels: classes, hidden: settings.hidden, seed: settings.seed)
        var adam = Adam(parameterCount: net.parameters.count, learningRate: settings.learningRate)
        var sampler = try Equibatch(presence: scenes.presence, classCount: classes, seed: settings.seed)
        let workspace = ConvNetWorkspace(batch: settings.batchSize, channels: classes, hidden: settings.hidden, height: size, width: size)
        var batchLabels = [UInt8](repeating: 0, count: settings.batchSize * plane)
        let options = LossOptions.softmax(ignoreIndex: Int(TriangleScenes.void))

        let predictionsBefore = try predict(net)
        let before = score(predictionsBefore)
        var lossCurve = [CurvePoint](), miouCurve = [CurvePoint(step: 0, value: before.datasetMIoU)]
        var latestMIoU = before.datasetMIoU
        for step in 1...settings.steps {
            let batch = sampler.nextBatch(size: settings.batchSize)
            for (slot, image) in batch.enumerated() {
                workspace.input.replaceSubrange(
                    slot * classes * plane ..< (slot + 1) * classes * plane,
                    with: scenes.features[image * classes * plane ..< (image + 1) * classes * plane])
                batchLabels.replaceSubrange(slot * plane ..< (slot + 1) * plane, with: scenes.labels[image * plane ..< (image + 1) * plane])
            }
            workspace.forward(net)
            let value = try lossAndGradient(loss, workspace: workspace, labels: batchLabels, options: options)
            let gradient = workspace.backward(net)
            adam.step(&net.parameters, gradient: gradient)
            lossCurve.append(CurvePoint(step: step, value: value))
            if step % settings.evaluateEvery == 0 || step == settings.steps {
                latestMIoU = try score(predict(net)).datasetMIoU
                miouCurve.append(CurvePoint(step: step, value: latestMIoU))
            }
            progress(TrainingProgress(loss: loss, step: step, steps: settings.steps, batchLoss: value, datasetMIoU: latestMIoU))
        }
        let predictionsAfter = try predict(net)
        return TrainingRun(
            loss: loss, lossCurve: lossCurve, miouCurve: miouCurve, before: before, after: score(predictionsAfter),
            predictionsBefore: predictionsBefore, predictionsAfter: predictionsAfter,
            seconds: Date().timeIntervalSince(start))
    }

    /// The loss of the batch in `workspace`, and its gradient into `workspace.logitGradient`.
    private func lossAndGradient(
        _ loss: TrainingLoss, workspace: ConvNetWorkspace, labels: [UInt8], options: LossOptions
    ) throws(LovaszError) -> Double {
        let shape = [workspace.batch, workspace.channels, workspace.height, workspace.width]
        let logits = workspace.logits
        return try labels.withUnsafeBufferPointer { (labels) throws(LovaszError) in
            try logits.withUnsafeBufferPointer { (logits) throws(LovaszError) in
                try workspace.logitGradient.withUnsafeMutableBufferPointer { (gradient) throws(LovaszError) in
                    switch loss {
                    case .lovaszSoftmax:
                        return try engine.compute(scores: logits, shape: shape, labels: labels, options: options, gradient: gradient).loss
                    case .crossEntropy:
                        return CrossEntropy.lossAndGradient(
                            logits: logits, labels: labels, batch: shape[0], classes: shape[1],
                            spatial: shape[2] * shape[3], ignore: TriangleScenes.void, gradient: gradient)
                    }
                }
            }
        }
    }

    /// The arg-max class of every pixel of every image, `[images, size, size]`
    /// (``Predictions/argmax(scores:shape:)``: ties go to the lowest class).
    ///
    /// - Throws: ``LovaszError/nonFiniteScore(position:value:)`` when training diverged.
    func predict(_ net: ResidualConvNet) throws(LovaszError) -> [UInt8] {
        let classes = TriangleScenes.classCount, plane = scenes.pixelsPerImage
        let workspace = ConvNetWorkspace(batch: 1, channels: classes, hidden: net.hidden, height: scenes.size, width: scenes.size)
        var predictions = [UInt8](repeating: 0, count: scenes.count * plane)
        for image in 0..<scenes.count {
            workspace.input.replaceSubrange(0..., with: scenes.features[image * classes * plane ..< (image + 1) * classes * plane])
            workspace.forward(net)
            let best: [Int32]
            do {
                best = try Predictions.argmax(scores: workspace.logits, shape: [1, classes, scenes.size, scenes.size])
            } catch {
                guard case .nonFiniteScore(let position, let value) = error else { preconditionFailure("\(error)") }
                throw .nonFiniteScore(position: [image] + position.dropFirst(), value: value)
            }
            for pixel in 0..<plane { predictions[image * plane + pixel] = UInt8(best[pixel]) }
        }
        return predictions
    }

    func score(_ predictions: [UInt8]) -> SegmentationScores {
        SegmentationScores(
            predictions: predictions, labels: scenes.labels, images: scenes.count,
            classes: TriangleScenes.classCount, ignore: TriangleScenes.void, batches: evaluationBatches)
    }
}
