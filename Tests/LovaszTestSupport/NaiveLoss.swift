public import Lovasz
import Foundation

/// One (group, class) term of a naive loss, kept for diagnostics and tie checks.
public struct NaiveSegment: Sendable {
    /// The group: the image when per image, else 0 (the whole batch).
    public var group: Int
    /// The class (softmax), or 1 (the foreground of the binary losses).
    public var classIndex: Int
    /// Flat pixel indices `b·S + s` of the group's non-ignored pixels, increasing.
    public var pixels: [Int]
    /// The error of each of those pixels (the hinge's before the ReLU).
    public var errors: [Double]
    /// Whether each of those pixels belongs to the class.
    public var foreground: [Bool]
    /// Whether the extension is taken at `max(error, 0)` (the hinge).
    public var rectified: Bool
    /// The segment's factor in the total loss (class weight share, over `B` when per image).
    public var weight: Double
    /// The unweighted Lovász loss of the segment.
    public var value: Double
}

/// A loss and its gradient computed by ``NaiveLovasz``.
public struct NaiveLossResult: Sendable {
    /// The loss.
    public var loss: Double
    /// `∂loss/∂scores`, shaped like the scores.
    public var gradient: [Double]
    /// Distinct classes selected in at least one group (1 for the binary losses).
    public var classesCounted: Int
    /// Every (group, class) term that entered the loss.
    public var segments: [NaiveSegment]

    /// The smallest distance between two errors of one segment (0 when two errors tie), and
    /// for the hinge also between an error and the kink of the ReLU at 0; `.infinity` when no
    /// segment has two errors. Finite-difference checks need it well above the step.
    public var smallestErrorGap: Double {
        var gap = Double.infinity
        for segment in segments {
            let sorted = (segment.errors + (segment.rectified ? [0] : [])).sorted()
            for (a, b) in zip(sorted, sorted.dropFirst()) { gap = min(gap, b - a) }
        }
        return gap
    }
}

/// The three Lovász losses computed from their definitions in Double (docs/DESIGN.md §3).
///
/// Written from the paper and the design contract, independently of the library: the
/// softmax and sigmoid use Foundation's `exp` in Double, the class losses use
/// ``NaiveJaccard/lovaszExtension(errors:foreground:)`` (`O(p²)` per segment: keep problems
/// small), and the gradient goes through the softmax or sigmoid Jacobian by the chain rule.
public enum NaiveLovasz {
    /// The loss and `∂loss/∂scores` for scores given as floats (converted exactly to Double).
    public static func loss<Label: BinaryInteger>(
        scores: [Float], shape: [Int], labels: [Label], options: LossOptions
    ) -> NaiveLossResult {
        loss(scores: scores.map(Double.init), shape: shape, labels: labels.map { Int($0) }, options: options)
    }

    /// The loss and `∂loss/∂scores`.
    ///
    /// - Parameters:
    ///   - scores: C order, shaped `[B, C, ...]` (softmax) or `[B, ...]` (binary; a class axis of
    ///     size 1 is just another axis here).
    ///   - labels: one per pixel, valid for the loss (not checked beyond preconditions).
    ///   - options: every option of ``LossOptions`` is honoured.
    public static func loss(
        scores: [Double], shape: [Int], labels: [Int], options: LossOptions
    ) -> NaiveLossResult {
        let softmax = options.loss == .softmax
        let batch = shape[0]
        let channels = softmax ? shape[1] : 1
        let spatial = shape.dropFirst(softmax ? 2 : 1).reduce(1, *)
        precondition(scores.count == batch * channels * spatial, "scores do not match the shape")
        precondition(labels.count == batch * spatial, "labels do not match the shape")
        func at(_ pixel: Int, _ channel: Int) -> Int {
            (pixel / spatial * channels + channel) * spatial + pixel % spatial
        }

        let x = transformed(scores, options: options, batch: batch, channels: channels, spatial: spatial)

        let groups: [[Int]] = options.perImage ? (0..<batch).map { [$0] } : [Array(0..<batch)]
        let imageFactor = options.perImage ? 1 / Double(batch) : 1
        var lossTotal = 0.0
        var dLossdX = [Double](repeating: 0, count: scores.count)
        var segments: [NaiveSegment] = []
        var counted = Set<Int>()
        for (groupIndex, images) in groups.enumerated() {
            let pixels = images.flatMap { b in (0..<spatial).map { b * spatial + $0 } }
                .filter { labels[$0] != options.ignoreIndex }
            let chosen: [Int]
            if softmax {
                switch options.classes {
                case .present: chosen = Set(pixels.map { labels[$0] }).sorted()
                case .all: chosen = Array(0..<channels)
                case .explicit(let list): chosen = list
                }
            } else {
                chosen = [1]
            }
            counted.formUnion(chosen)
            let weights = chosen.map { c in options.classWeights.map { Double($0[c]) } ?? 1 }
            let weightSum = weights.reduce(0, +)
            if pixels.isEmpty || weightSum == 0 { continue }

            for (c, w) in zip(chosen, weights) {
                let channel = softmax ? c : 0
                let foreground = pixels.map { labels[$0] == c }
                let errors = zip(pixels, foreground).map { pixel, isForeground in
                    let v = x[at(pixel, channel)]
                    switch options.loss {
                    case .hinge: return isForeground ? 1 - v : 1 + v
                    case .softmax, .sigmoid: return isForeground ? 1 - v : v
                    }
                }
                var value: Double
                var g: [Double]
                if options.loss == .hinge {
                    // Lovász hinge: the extension at ReLU(m), and the ReLU's derivative.
                    (value, g) = NaiveJaccard.lovaszExtension(errors: errors.map { max($0, 0) }, foreground: foreground)
                    for k in g.indices where !(errors[k] > 0) { g[k] = 0 }
                } else {
                    (value, g) = NaiveJaccard.lovaszExtension(errors: errors, foreground: foreground)
                }
                let factor = w / weightSum * imageFactor
                lossTotal += factor * value
                for (k, pixel) in pixels.enumerated() {
                    // m = 1 - x for the foreground, x (or 1 + x for the hinge) for the background.
                    dLossdX[at(pixel, channel)] += factor * g[k] * (foreground[k] ? -1 : 1)
                }
                segments.append(NaiveSegment(
                    group: groupIndex, classIndex: c, pixels: pixels, errors: errors,
                    foreground: foreground, rectified: options.loss == .hinge, weight: factor, value: value))
            }
        }

        let gradient = chainRule(
            dLossdX, through: x, options: options, batch: batch, channels: channels, spatial: spatial)
        return NaiveLossResult(
            loss: lossTotal, gradient: gradient, classesCounted: counted.count, segments: segments)
    }

    /// Probabilities from the scores (softmax over the class axis, or the sigmoid), or the
    /// scores themselves for probabilities and the hinge.
    static func transformed(
        _ scores: [Double], options: LossOptions, batch: Int, channels: Int, spatial: Int
    ) -> [Double] {
        guard options.scoresAre == .logits, options.loss != .hinge else { return scores }
        if options.loss == .sigmoid { return scores.map { 1 / (1 + exp(-$0)) } }
        var probabilities = scores
        for b in 0..<batch {
            for s in 0..<spatial {
                let indices = (0..<channels).map { (b * channels + $0) * spatial + s }
                let largest = indices.map { scores[$0] }.max()!
                let e = indices.map { exp(scores[$0] - largest) }
                let sum = e.reduce(0, +)
                for (i, v) in zip(indices, e) { probabilities[i] = v / sum }
            }
        }
        return probabilities
    }

    /// `∂loss/∂scores` from `∂loss/∂x`, where `x` are the probabilities (or the scores).
    static func chainRule(
        _ dLossdX: [Double], through x: [Double], options: LossOptions,
        batch: Int, channels: Int, spatial: Int
    ) -> [Double] {
        guard options.scoresAre == .logits, options.loss != .hinge else { return dLossdX }
        if options.loss == .sigmoid {
            // σ'(F) = σ(F)·(1 - σ(F)).
            return zip(dLossdX, x).map { d, p in d * p * (1 - p) }
        }
        // ∂f_c/∂F_k = f_c·([c = k] - f_k), summed over c.
        var gradient = [Double](repeating: 0, count: dLossdX.count)
        for b in 0..<batch {
            for s in 0..<spatial {
                func at(_ c: Int) -> Int { (b * channels + c) * spatial + s }
                for k in 0..<channels {
                    var sum = 0.0
                    for c in 0..<channels {
                        let jacobian = x[at(c)] * ((c == k ? 1 : 0) - x[at(k)])
                        sum += dLossdX[at(c)] * jacobian
                    }
                    gradient[at(k)] = sum
                }
            }
        }
        return gradient
    }
}
