public import Lovasz
import Foundation

/// The four losses compared in the paper's Fig. 3.
public enum SweepLoss: String, Sendable, CaseIterable, Hashable {
    /// The Jaccard loss `1 − IoU` of the thresholded prediction (the target measure).
    case jaccard = "Jaccard loss"
    /// The Lovász hinge (through ``Lovasz/LovaszEngine``).
    case lovaszHinge = "Lovász hinge"
    /// The mean hinge loss `max(0, 1 − F·y±)`.
    case hinge = "hinge"
    /// The mean binary cross-entropy of `σ(F)`.
    case crossEntropy = "binary cross-entropy"
}

/// The experiment of the paper's Sec. 4.1 / Fig. 3: a classifier `F_i = f_i + b` ("foreground
/// when `f_i > −b`") swept over the bias `b`, and four losses of it.
///
/// The finding: only the Lovász hinge has its minimum where the Jaccard loss has its minimum
/// (here: within one step of the sweep). The hinge and cross-entropy are minimised near the
/// bias that maximises pixel accuracy, which under-predicts the small foreground.
public struct BiasSweep: Sendable {
    /// The biases `b`, increasing and evenly spaced.
    public let biases: [Double]
    /// The value of each loss at each bias.
    public let values: [SweepLoss: [Double]]
    /// Whether the Jaccard loss and the Lovász hinge are taken per image (and averaged) or
    /// over the whole data set as one group.
    public let perImage: Bool

    /// −3 to 3 by 0.1 (61 biases).
    public static let defaultBiases: [Double] = (-30...30).map { Double($0) / 10 }

    /// The spacing of the sweep.
    public var step: Double { (biases.last! - biases.first!) / Double(biases.count - 1) }

    /// Sweeps the bias and computes the four losses.
    ///
    /// - Parameters:
    ///   - data: the images and features.
    ///   - biases: the biases to evaluate, increasing and evenly spaced, at least 2
    ///     (default ``defaultBiases``: −3 to 3 by 0.1).
    ///   - perImage: `false` (default): the Jaccard loss and the Lovász hinge are taken over
    ///     the whole data set as one group (the data-set IoU); `true`: means over images.
    ///   - engine: computes the Lovász hinge.
    /// - Throws: ``Lovasz/LovaszError`` from the engine.
    public init(
        data: SyntheticCircles,
        biases: [Double] = BiasSweep.defaultBiases,
        perImage: Bool = false,
        engine: LovaszEngine
    ) throws(LovaszError) {
        guard biases.count >= 2 else { throw .invalidOption("a bias sweep needs at least 2 biases") }
        let shape = [data.count, data.size, data.size]
        var values = [SweepLoss: [Double]]()
        for loss in SweepLoss.allCases { values[loss] = [] }
        var scores = [Float](repeating: 0, count: data.features.count)
        for b in biases {
            for i in scores.indices { scores[i] = data.features[i] + Float(b) }
            let lovasz = try engine.loss(scores: scores, shape: shape, labels: data.labels, options: .hinge(perImage: perImage))
            values[.lovaszHinge]!.append(lovasz.loss)
            values[.jaccard]!.append(Self.jaccardLoss(scores: scores, data: data, perImage: perImage))
            var hinge = 0.0, crossEntropy = 0.0
            for (score, label) in zip(scores, data.labels) {
                let signed = Double(score) * (label == 1 ? 1 : -1)
                hinge += max(0, 1 - signed)
                crossEntropy += max(-signed, 0) + log1p(exp(-abs(signed)))
            }
            values[.hinge]!.append(hinge / Double(scores.count))
            values[.crossEntropy]!.append(crossEntropy / Double(scores.count))
        }
        self.biases = biases
        self.values = values
        self.perImage = perImage
    }

    /// `1 − IoU` of the foreground predicted by `score > 0`, per image (mean) or over all.
    /// An image with no foreground in the truth nor in the prediction has loss 0.
    static func jaccardLoss(scores: [Float], data: SyntheticCircles, perImage: Bool) -> Double {
        let pixels = data.size * data.size
        var total = 0.0
        var intersection = 0, union = 0
        for image in 0..<data.count {
            if perImage { intersection = 0; union = 0 }
            for i in image * pixels ..< (image + 1) * pixels {
                let predicted = scores[i] > 0, truth = data.labels[i] == 1
                if predicted && truth { intersection += 1 }
                if predicted || truth { union += 1 }
            }
            if perImage { total += union == 0 ? 0 : 1 - Double(intersection) / Double(union) }
        }
        if perImage { return total / Double(data.count) }
        return union == 0 ? 0 : 1 - Double(intersection) / Double(union)
    }

    /// The index of the smallest value of `loss` (the first one on ties).
    public func argmin(_ loss: SweepLoss) -> Int {
        let curve = values[loss]!
        return curve.indices.min { curve[$0] < curve[$1] } ?? 0
    }

    /// The bias minimising `loss`.
    public func minimizer(_ loss: SweepLoss) -> Double { biases[argmin(loss)] }

    /// `loss` rescaled to `[0, 1]` over the sweep (`(v − min)/(max − min)`), as plotted.
    public func normalised(_ loss: SweepLoss) -> [Double] {
        let curve = values[loss]!
        let low = curve.min() ?? 0, high = curve.max() ?? 1
        return curve.map { high > low ? ($0 - low) / (high - low) : 0 }
    }

    /// How many sweep steps separate the minimum of `loss` from the minimum of the Jaccard loss.
    public func stepsFromJaccardMinimum(_ loss: SweepLoss) -> Int {
        abs(argmin(loss) - argmin(.jaccard))
    }

    /// The paper's finding: the Lovász hinge is minimised within one step of the Jaccard
    /// loss's minimum, and neither the hinge nor the cross-entropy is.
    public var reproducesFinding: Bool {
        stepsFromJaccardMinimum(.lovaszHinge) <= 1
            && stepsFromJaccardMinimum(.hinge) > 1 && stepsFromJaccardMinimum(.crossEntropy) > 1
    }
}
