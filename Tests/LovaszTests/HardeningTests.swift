import LovaszTestSupport
import Testing
@testable import Lovasz

/// Probabilities outside [0, 1], the gradient written over the scores, and the plan of a
/// batch of many tiny images (issue 10, items 5 and 6).
@Suite struct HardeningTests {
    let engine = try! LovaszEngine(backend: .cpu)

    @Test(
        "a probability outside [0, 1] is rejected at its first position",
        arguments: [
            (LossOptions.softmax(scoresAre: .probabilities), [2, 2, 3]),
            (LossOptions.sigmoid(scoresAre: .probabilities), [2, 6]),
        ])
    func probabilityOutOfRange(options: LossOptions, shape: [Int]) throws {
        for bad: Float in [-0.25, 1.5, -0.0 - .ulpOfOne, 1 + .ulpOfOne] {
            var scores = [Float](repeating: 0.5, count: 12)
            scores[7] = bad
            scores[9] = 2
            let labels = [Int32](repeating: 1, count: shape.count == 3 ? 6 : 12)
            let position = shape.count == 3 ? [1, 0, 1] : [1, 1]
            #expect(throws: LovaszError.probabilityOutOfRange(position: position, value: bad)) {
                _ = try engine.loss(scores: scores, shape: shape, labels: labels, options: options)
            }
        }
    }

    @Test("NaN given as a probability is reported as a non-finite score")
    func nanProbability() {
        var scores = [Float](repeating: 0.5, count: 6)
        scores[4] = .nan
        #expect(throws: LovaszError.self) {
            _ = try engine.loss(scores: scores, shape: [1, 6], labels: [UInt8](repeating: 0, count: 6), options: .sigmoid(scoresAre: .probabilities))
        }
        do {
            _ = try engine.loss(scores: scores, shape: [1, 6], labels: [UInt8](repeating: 0, count: 6), options: .sigmoid(scoresAre: .probabilities))
        } catch {
            guard case .nonFiniteScore(let position, _) = error else { Issue.record("\(error)"); return }
            #expect(position == [0, 4])
        }
    }

    @Test("0 and 1 are valid probabilities, and softmax probabilities need not sum to one")
    func boundaryProbabilities() throws {
        // Each class's errors are taken as given: class 0 of pixel 0 has p = 1, class 1 has p = 1.
        let scores: [Float] = [1, 0, 1, 0]  // [1, 2, 1, 2]: pixel 0 (1, 1), pixel 1 (0, 0)
        let labels: [Int64] = [0, 1]
        let options = LossOptions.softmax(scoresAre: .probabilities)
        let (result, gradient) = try engine.lossAndGradient(scores: scores, shape: [1, 2, 1, 2], labels: labels, options: options)
        let naive = NaiveLovasz.loss(scores: scores, shape: [1, 2, 1, 2], labels: labels, options: options)
        expectLoss(result.loss, naive.loss, "unnormalised probabilities")
        expectGradient(gradient, naive.gradient, "unnormalised probabilities")
    }

    static let inPlaceCases: [(String, LossOptions, [Int])] = [
        ("softmax from logits", .softmax(ignoreIndex: 255), [2, 3, 4, 5]),
        ("softmax from probabilities, all classes", .softmax(classes: .all, scoresAre: .probabilities), [2, 3, 4, 5]),
        ("hinge", .hinge(), [3, 4, 5]),
        ("sigmoid from logits", .sigmoid(), [3, 4, 5]),
        ("sigmoid from probabilities", .sigmoid(perImage: false, scoresAre: .probabilities), [3, 4, 5]),
    ]

    @Test("the gradient written over the scores (in place, or shifted) equals the separate one", arguments: inPlaceCases)
    func inPlace(name: String, options: LossOptions, shape: [Int]) throws {
        var rng = SplitMix64(seed: 10)
        let count = shape.reduce(1, *)
        let scores: [Float] = (0..<count).map { _ in
            options.scoresAre == .probabilities ? Float.random(in: 0...1, using: &rng) : Float.random(in: -3...3, using: &rng)
        }
        let pixels = options.loss == .softmax ? count / shape[1] : count
        let classes = options.loss == .softmax ? shape[1] : 2
        let labels: [UInt8] = (0..<pixels).map { _ in
            options.ignoreIndex != nil && Int.random(in: 0..<10, using: &rng) == 0 ? 255 : UInt8(Int.random(in: 0..<classes, using: &rng))
        }
        let (expected, expectedGradient) = try engine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        for shift in [0, 1, -3] {
            // buffer[base ..< base + count] holds the scores; the gradient goes to base + shift.
            let base = 3
            var buffer = [Float](repeating: 0, count: count + 6)
            buffer.replaceSubrange(base ..< base + count, with: scores)
            let result = try buffer.withUnsafeMutableBufferPointer { buffer in
                try labels.withUnsafeBufferPointer { labels in
                    try engine.compute(
                        scores: UnsafeBufferPointer(rebasing: buffer[base ..< base + count]), shape: shape, labels: labels,
                        options: options, gradient: UnsafeMutableBufferPointer(rebasing: buffer[base + shift ..< base + shift + count]))
                }
            }
            #expect(result.loss == expected.loss, "\(name), shift \(shift)")
            #expect(Array(buffer[base + shift ..< base + shift + count]) == expectedGradient, "\(name), shift \(shift)")
        }
    }

    /// bfloat16 scores with the bfloat16 gradient written over them: the same as into a
    /// separate buffer; a bfloat16 probability outside [0, 1] is rejected at its position.
    @Test("bfloat16: the gradient over the scores, and probabilities outside [0, 1]")
    func narrowScoresInPlace() throws {
        var rng = SplitMix64(seed: 12)
        let shape = [2, 3, 4]
        let scores = (0..<24).map { _ in BFloat16(rounding: Float.random(in: -3...3, using: &rng)) }
        let labels = (0..<8).map { _ in UInt8(Int.random(in: 0..<3, using: &rng)) }
        let options = LossOptions.softmax()
        var separate = [BFloat16](repeating: BFloat16(rounding: 0), count: 24)
        var buffer = scores
        let (expected, result) = try labels.withUnsafeBufferPointer { labels in
            let expected = try scores.withUnsafeBufferPointer { scores in
                try separate.withUnsafeMutableBufferPointer { gradient in
                    try engine.compute(scores: scores, shape: shape, labels: labels, options: options, gradientInScoreType: gradient)
                }
            }
            let result = try buffer.withUnsafeMutableBufferPointer { buffer in
                try engine.compute(
                    scores: UnsafeBufferPointer(buffer), shape: shape, labels: labels, options: options, gradientInScoreType: buffer)
            }
            return (expected, result)
        }
        #expect(result.loss == expected.loss)
        #expect(buffer.map(\.bitPattern) == separate.map(\.bitPattern))

        var probabilities = [BFloat16](repeating: BFloat16(rounding: 0.5), count: 24)
        probabilities[13] = BFloat16(rounding: 1.5)
        #expect(throws: LovaszError.probabilityOutOfRange(position: [1, 0, 1], value: 1.5)) {
            try probabilities.withUnsafeBufferPointer { scores in
                try labels.withUnsafeBufferPointer { labels in
                    _ = try engine.compute(
                        scores: scores, shape: shape, labels: labels, options: .softmax(scoresAre: .probabilities))
                }
            }
        }
    }

    /// 20 000 one-pixel images of 2 classes, per image, all classes: more segments than one
    /// chunk of the CPU path, with ignored pixels, against the naive reference.
    @Test("many tiny images: the loss and gradient of the naive reference")
    func manyTinyImages() throws {
        let batch = 20_000
        var rng = SplitMix64(seed: 11)
        let scores: [Float] = (0..<(batch * 2)).map { _ in Float.random(in: -3...3, using: &rng) }
        let labels: [UInt8] = (0..<batch).map { _ in [0, 1, 1, 255][Int.random(in: 0..<4, using: &rng)] }
        for options in [LossOptions.softmax(classes: .all, perImage: true, ignoreIndex: 255),
                        .softmax(perImage: true, ignoreIndex: 255)] {
            let (result, gradient) = try engine.lossAndGradient(scores: scores, shape: [batch, 2, 1], labels: labels, options: options)
            let naive = NaiveLovasz.loss(scores: scores, shape: [batch, 2, 1], labels: labels, options: options)
            expectLoss(result.loss, naive.loss, "\(options.classes)")
            expectGradient(gradient, naive.gradient, "\(options.classes)")
        }
    }

    /// The plan of `B` one-pixel images stores one count per (image, class), one offset per
    /// image with ignored pixels and one index per valid pixel, and nothing per segment: its
    /// size per segment does not grow with the batch, and the CPU path's per-call bookkeeping
    /// is a chunk of bounded size.
    @Test("the plan's memory is linear in the batch, with a small constant", arguments: [1_000, 4_000, 16_000])
    func planMemoryIsLinear(batch: Int) throws {
        let scores = [Float](repeating: 0, count: batch * 2)
        let labels: [UInt8] = (0..<batch).map { $0 % 7 == 0 ? 255 : UInt8($0 % 2) }
        let problem = try scores.withUnsafeBufferPointer { scores in
            try labels.withUnsafeBufferPointer { labels in
                try LossProblem(scores: scores, shape: [batch, 2, 1], labels: labels,
                                options: .softmax(classes: .all, perImage: true, ignoreIndex: 255))
            }
        }
        let plan = problem.plan
        let valid = labels.filter { $0 != 255 }.count
        #expect(plan.segmentCount == 2 * valid)
        #expect(plan.groupCount == batch)
        let bytes = plan.classCounts.count * 4 + (plan.validOffsets?.count ?? 0) * 4 + (plan.validPixels?.count ?? 0) * 4
        // 2 counts (8 bytes) and 1 offset (4 bytes) per image, 1 index (4 bytes) per valid pixel.
        #expect(bytes == 12 * batch + 4 + 4 * valid)
        #expect(bytes <= 16 * batch + 4)
        #expect(problem.labels.classOf.count == batch && problem.labels.counts.count == 2 * batch)
        #expect(SegmentSorter.chunkSegments <= 1 << 16)
        // Segments are produced on demand, in plan order, with the image's counts and weights.
        var produced = 0
        var previous = -1
        var consistent = true
        for segment in plan.segments {
            consistent = consistent && segment.group >= previous && labels[segment.group] != 255
                && segment.foregroundCount == (Int(labels[segment.group]) == segment.channel ? 1 : 0)
                && segment.weight == 0.5 / Double(batch)
            previous = segment.group
            produced += 1
        }
        #expect(consistent)
        #expect(produced == plan.segmentCount)
    }
}
