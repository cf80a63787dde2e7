import Foundation

/// The softmax cross-entropy of logits `[B, C, S]`, averaged over the non-ignored pixels,
/// and its gradient with respect to the logits: the baseline the demo compares against.
enum CrossEntropy {
    /// - Parameters:
    ///   - logits: `[batch, classes, spatial]`, C order.
    ///   - labels: `[batch, spatial]`, each in `0..<classes` or `ignore`.
    ///   - gradient: receives `∂loss/∂logits`: `(softmax − one-hot) / n` with `n` the number
    ///     of non-ignored pixels, and 0 on ignored pixels.
    /// - Returns: the mean loss (0 when every pixel is ignored).
    static func lossAndGradient(
        logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<UInt8>,
        batch: Int, classes: Int, spatial: Int, ignore: UInt8,
        gradient: UnsafeMutableBufferPointer<Float>
    ) -> Double {
        precondition(logits.count == batch * classes * spatial && labels.count == batch * spatial && gradient.count == logits.count)
        let valid = labels.reduce(0) { $0 + ($1 == ignore ? 0 : 1) }
        guard valid > 0 else {
            gradient.update(repeating: 0)
            return 0
        }
        let scale = 1 / Float(valid)
        var total = 0.0
        var probabilities = [Float](repeating: 0, count: classes)
        for b in 0..<batch {
            for s in 0..<spatial {
                let label = labels[b * spatial + s]
                let base = b * classes * spatial + s
                if label == ignore {
                    for c in 0..<classes { gradient[base + c * spatial] = 0 }
                    continue
                }
                var largest = -Float.infinity
                for c in 0..<classes { largest = max(largest, logits[base + c * spatial]) }
                var denominator: Float = 0
                for c in 0..<classes {
                    probabilities[c] = exp(logits[base + c * spatial] - largest)
                    denominator += probabilities[c]
                }
                let truth = Int(label)
                total += Double(log(denominator) - (logits[base + truth * spatial] - largest))
                for c in 0..<classes {
                    let p = probabilities[c] / denominator
                    gradient[base + c * spatial] = (p - (c == truth ? 1 : 0)) * scale
                }
            }
        }
        return total / Double(valid)
    }
}
