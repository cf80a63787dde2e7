public import Lovasz
public import Testing

/// Checks of 16-bit scores: they must give exactly what their float32 widening gives.
public enum HalfPrecisionCheck {
    /// `value` rounded to bfloat16 by an independent rule: of the two bfloat16 neighbours
    /// (the truncation and the next one up in magnitude), the nearer in `Double`, the even
    /// one on a tie. Finite values only.
    public static func naiveBFloat16Bits(_ value: Float) -> UInt16 {
        let truncated = UInt16(value.bitPattern >> 16)
        let next = truncated &+ 1
        let low = Double(Float(bitPattern: UInt32(truncated) << 16))
        let high = Double(Float(bitPattern: UInt32(next) << 16))
        let x = Double(value)
        let below = abs(x - low), above = abs(high - x)
        if below != above { return below < above ? truncated : next }
        return truncated & 1 == 0 ? truncated : next
    }

    /// Computes with `scores` of type `Scalar` on `engine` and expects the loss and the
    /// gradient of their exact float32 widening, bit for bit, and the gradient in `Scalar`
    /// to be that float32 gradient rounded once.
    public static func expectEqualToWidened<Scalar: LovaszScalar, Label: FixedWidthInteger>(
        _ type: Scalar.Type, engine: LovaszEngine, scores floats: [Float], shape: [Int], labels: [Label],
        options: LossOptions, _ comment: Comment
    ) throws {
        let narrow = floats.map { Scalar(rounding: $0) }
        let widened = narrow.map(\.floatValue)
        let (expected, expectedGradient) = try engine.lossAndGradient(
            scores: widened, shape: shape, labels: labels, options: options)
        var gradient = [Float](repeating: .nan, count: floats.count)
        var narrowGradient = [Scalar](repeating: Scalar(rounding: .nan), count: floats.count)
        let (result, narrowResult) = try narrow.withUnsafeBufferPointer { scores in
            try labels.withUnsafeBufferPointer { labels in
                let result = try gradient.withUnsafeMutableBufferPointer { gradient in
                    try engine.compute(scores: scores, shape: shape, labels: labels, options: options, gradient: gradient)
                }
                let narrowResult = try narrowGradient.withUnsafeMutableBufferPointer { gradient in
                    try engine.compute(
                        scores: scores, shape: shape, labels: labels, options: options, gradientInScoreType: gradient)
                }
                return (result, narrowResult)
            }
        }
        #expect(result.loss == expected.loss && narrowResult.loss == expected.loss, comment)
        #expect(result.backend == expected.backend, comment)
        #expect(gradient == expectedGradient, comment)
        let rounded = expectedGradient.map { Scalar(rounding: $0) }
        #expect(bits(narrowGradient) == bits(rounded), comment)
    }

    /// The bit patterns of 16-bit values (so that equal NaNs compare equal).
    static func bits<Scalar: LovaszScalar>(_ values: [Scalar]) -> [UInt16] {
        values.map { value in withUnsafeBytes(of: value) { $0.load(as: UInt16.self) } }
    }
}
