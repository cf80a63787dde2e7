/// Predicted classes from scores, for the IoU metrics.
public enum Predictions {
    /// The class of largest score at every pixel of `[B, C, ...]` scores.
    ///
    /// Ties go to the lowest class index (as `numpy.argmax`). Logits and probabilities give
    /// the same predictions.
    ///
    /// - Parameters:
    ///   - scores: C-order float scores, `shape.reduce(1, *)` of them, all finite.
    ///   - shape: `[B, C, ...]` with `C ≥ 1`.
    /// - Returns: one class in `0..<C` per pixel, shaped `[B, ...]` (the shape without its
    ///   class axis).
    /// - Throws: ``MetricsError/invalidShape(_:)`` for a shape that is not `[B, C, ...]` or
    ///   does not hold `scores.count` values; ``MetricsError/nonFiniteScore(position:value:)``
    ///   naming the first NaN or infinity in C order.
    public static func argmax(scores: UnsafeBufferPointer<Float>, shape: [Int]) throws(MetricsError) -> [Int32] {
        guard shape.count >= 2, shape.allSatisfy({ $0 >= 0 }), shape[1] >= 1 else {
            throw .invalidShape("expected scores [B, C, ...] with C ≥ 1; got \(shape.bracketed)")
        }
        try check(scores: scores, shape: shape)
        let classes = shape[1]
        let spatial = shape.dropFirst(2).reduce(1, *)
        let batch = shape[0]
        var predictions = [Int32](repeating: 0, count: batch * spatial)
        for b in 0..<batch {
            for s in 0..<spatial {
                var best = 0
                var bestScore = scores[b * classes * spatial + s]
                for c in 1..<classes {
                    let score = scores[(b * classes + c) * spatial + s]
                    if score > bestScore {
                        best = c
                        bestScore = score
                    }
                }
                predictions[b * spatial + s] = Int32(truncatingIfNeeded: best)
            }
        }
        return predictions
    }

    /// The class of largest score at every pixel, from an array.
    ///
    /// - Throws: as the `UnsafeBufferPointer` variant.
    public static func argmax(scores: [Float], shape: [Int]) throws(MetricsError) -> [Int32] {
        try scores.withUnsafeBufferPointer { (scores) throws(MetricsError) in try argmax(scores: scores, shape: shape) }
    }

    /// Binary predictions: 1 where the score is above `threshold`, else 0.
    ///
    /// Use 0 for the logits of the hinge or the sigmoid (the reference's `logits > 0`) and
    /// 0.5 for probabilities.
    ///
    /// - Parameters:
    ///   - scores: C-order float scores, all finite.
    ///   - shape: their shape (`[B, ...]` or `[B, 1, ...]`), used to check the count and to
    ///     name the position of a bad score.
    ///   - threshold: a finite threshold.
    /// - Returns: 0 or 1 per score, in the same order.
    /// - Throws: ``MetricsError/invalidShape(_:)`` when `shape` does not hold `scores.count`
    ///   values; ``MetricsError/nonFiniteScore(position:value:)`` for the first non-finite score.
    public static func binary(scores: [Float], shape: [Int], threshold: Float = 0) throws(MetricsError) -> [Int32] {
        guard !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidShape("expected scores [B, ...]; got \(shape.bracketed)")
        }
        try scores.withUnsafeBufferPointer { (scores) throws(MetricsError) in try check(scores: scores, shape: shape) }
        return scores.map { $0 > threshold ? 1 : 0 }
    }

    /// Checks the count of `scores` against `shape` and that every score is finite.
    private static func check(scores: UnsafeBufferPointer<Float>, shape: [Int]) throws(MetricsError) {
        var expected = 1
        for d in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidShape("the shape \(shape.bracketed) is too large") }
            expected = product
        }
        guard expected == scores.count else {
            throw .invalidShape("\(scores.count) scores for the shape \(shape.bracketed), which holds \(expected)")
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            var position = [Int](repeating: 0, count: shape.count)
            var rest = bad
            for axis in shape.indices.reversed() {
                position[axis] = rest % shape[axis]
                rest /= shape[axis]
            }
            throw .nonFiniteScore(position: position, value: scores[bad])
        }
    }
}
