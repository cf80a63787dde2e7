import Lovasz
import LovaszTestSupport
import Testing

/// 16-bit scores on the CPU path: widened once, then as float32.
@Suite struct HalfPrecisionTests {
    @Test("BFloat16(rounding:) rounds to nearest, ties to even, as the naive rule",
          arguments: [Float(1), 1.00390625, 1.01171875, 1.0078125, -2.5e-3, 3.3895314e38, 0x1p-133, 0, -0.0, 65504, 0.1])
    func bfloat16Rounding(value: Float) {
        #expect(BFloat16(rounding: value).bitPattern == HalfPrecisionCheck.naiveBFloat16Bits(value))
        #expect(BFloat16(rounding: value.nextUp).bitPattern == HalfPrecisionCheck.naiveBFloat16Bits(value.nextUp))
        #expect(BFloat16(rounding: BFloat16(rounding: value).floatValue) == BFloat16(rounding: value))
    }

    @Test func bfloat16RoundingOfRandomFloats() {
        var rng = SplitMix64(seed: 16)
        for _ in 0..<20_000 {
            let value = Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1)
            #expect(BFloat16(rounding: value).bitPattern == HalfPrecisionCheck.naiveBFloat16Bits(value), "\(value)")
        }
        #expect(BFloat16(rounding: .nan).floatValue.isNaN)
        #expect(BFloat16(rounding: .infinity).floatValue == .infinity)
    }

    static let cases: [(name: String, shape: [Int], options: LossOptions)] = [
        ("softmax from logits, per image", [2, 4, 5, 6], .softmax(perImage: true)),
        ("softmax from probabilities", [2, 3, 4, 5], .softmax(scoresAre: .probabilities)),
        ("hinge", [3, 7, 5], .hinge()),
        ("sigmoid from logits", [2, 1, 6, 6], .sigmoid()),
    ]

    @Test("float16 and bfloat16 scores equal their float32 widening on the CPU",
          arguments: [ScoreType.float16, .bfloat16], cases.indices)
    func cpuEqualsWidened(type: ScoreType, index: Int) throws {
        let engine = try LovaszEngine(backend: .cpu)
        let (name, shape, options) = Self.cases[index]
        let (scores, labels) = Self.inputs(shape: shape, options: options, seed: UInt64(index))
        switch type {
        case .float16:
            try HalfPrecisionCheck.expectEqualToWidened(
                Float16.self, engine: engine, scores: scores, shape: shape, labels: labels, options: options, "\(name)")
        case .bfloat16:
            try HalfPrecisionCheck.expectEqualToWidened(
                BFloat16.self, engine: engine, scores: scores, shape: shape, labels: labels, options: options, "\(name)")
        case .float32:
            break
        }
    }

    @Test func nonFiniteHalfScoreIsNamedWithItsValue() throws {
        let engine = try LovaszEngine(backend: .cpu)
        var scores = [Float16](repeating: 0.5, count: 2 * 3 * 4)
        scores[17] = .infinity
        let labels = [Int32](repeating: 1, count: 2 * 4)
        #expect(throws: LovaszError.nonFiniteScore(position: [1, 1, 1], value: .infinity)) {
            _ = try scores.withUnsafeBufferPointer { scores in
                try labels.withUnsafeBufferPointer { labels in
                    try engine.compute(scores: scores, shape: [2, 3, 4], labels: labels, options: .softmax())
                }
            }
        }
    }

    /// Scores in [-3, 3] (probabilities in [0, 1] when the options say so) and labels.
    static func inputs(shape: [Int], options: LossOptions, seed: UInt64) -> (scores: [Float], labels: [Int32]) {
        var rng = SplitMix64(seed: seed)
        let count = shape.reduce(1, *)
        let probabilities = options.scoresAre == .probabilities
        let scores = (0..<count).map { _ in probabilities ? Float.random(in: 0...1, using: &rng) : Float.random(in: -3...3, using: &rng) }
        let classes = options.loss == .softmax ? shape[1] : 2
        let pixels = count / (options.loss == .softmax ? shape[1] : 1)
        let labels = (0..<pixels).map { _ in Int32(Int.random(in: 0..<classes, using: &rng)) }
        return (scores, labels)
    }
}
