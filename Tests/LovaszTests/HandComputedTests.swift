import Foundation
import Lovasz
import LovaszTestSupport
import Testing

/// Small cases worked out by hand (the arithmetic is in the comments), checked against the
/// library and against the naive reference.
@Suite struct HandComputedTests {
    @Test func gradientOfSortedGroundTruth() {
        // Σδ = 2. Rank 0, foreground: 1/union = 1/2. Rank 1, background: intersection 1,
        // union 2 → 1/(2·3) = 1/6. Rank 2, foreground: union 3 → 1/3. Rank 3, background:
        // intersection 0 → 0.
        let sorted: [Bool] = [true, false, true, false]
        let expected: [Double] = [0.5, 1.0 / 6, 1.0 / 3, 0]
        #expect(lovaszGradient(sortedForeground: sorted) == expected)
        // The same from the prefix definition.
        let naive = NaiveJaccard.lovaszExtension(errors: [4, 3, 2, 1], foreground: sorted)
        for (a, b) in zip(naive.gradient, expected) { #expect(abs(a - b) < 1e-15) }
    }

    @Test func gradientEdgeCases() {
        let none: [Bool] = [], background: [Bool] = [false, false, false], foreground: [Bool] = [true, true, true]
        #expect(lovaszGradient(sortedForeground: none).isEmpty)
        // No foreground: Δ = 1 as soon as one pixel is mispredicted, so g = [1, 0, 0].
        let first: [Double] = [1, 0, 0]
        #expect(lovaszGradient(sortedForeground: background) == first)
        // All foreground: Δ(prefix_i) = i/3, so each step is 1/3.
        let third = 1.0 / 3
        #expect(lovaszGradient(sortedForeground: foreground) == [third, third, third])
    }

    @Test func extensionWithTie() {
        // errors [0.2, 0.9, 0.5, 0.9], foreground [1, 0, 1, 0]. Order: 1, 3 (tie: lower
        // index first), 2, 0; foreground in that order [0, 0, 1, 1], Σδ = 2.
        // g: 2/(2·3) = 1/3, 2/(3·4) = 1/6, 1/4, 1/4. Loss 0.9/3 + 0.9/6 + 0.5/4 + 0.2/4 = 0.625.
        let errors = [0.2, 0.9, 0.5, 0.9]
        let foreground = [true, false, true, false]
        let expected = [1.0 / 4, 1.0 / 3, 1.0 / 4, 1.0 / 6]
        let library = lovaszExtension(errors: errors, foreground: foreground)
        let naive = NaiveJaccard.lovaszExtension(errors: errors, foreground: foreground)
        #expect(abs(library.loss - 0.625) < 1e-15)
        #expect(abs(naive.value - 0.625) < 1e-15)
        for i in 0..<4 {
            #expect(abs(library.gradient[i] - expected[i]) < 1e-15)
            #expect(abs(naive.gradient[i] - expected[i]) < 1e-15)
        }
    }

    /// Softmax, B = 1, C = 2, two pixels.
    /// Pixel 0: logits (0, ln 3) → f = (1/4, 3/4), label 1. Pixel 1: logits (ln 4, 0) →
    /// f = (4/5, 1/5), label 0.
    /// Class 0: errors (bg 1/4, fg 1 - 4/5 = 1/5); order 0, 1; g = (1/(1·2), 1/2) → 0.225.
    /// Class 1: errors (fg 1/4, bg 1/5); order 0, 1; g = (1, 0) → 0.25. Loss (0.225 + 0.25)/2 = 0.2375.
    /// ∂/∂f (halved by the mean): pixel 0 (1/4, -1/2), pixel 1 (-1/4, 0).
    /// Through the softmax, f_k(G_k - Σ f_c G_c): pixel 0: Σ = 1/16 - 3/8 = -5/16 →
    /// (1/4·9/16, 3/4·(-3/16)) = (9/64, -9/64); pixel 1: Σ = -1/5 → (4/5·(-1/20), 1/5·1/5) = (-1/25, 1/25).
    static let softmaxLabels: [Int32] = [1, 0]

    @Test func softmaxFromLogits() throws {
        let scores: [Float] = [0, Float(log(4.0)), Float(log(3.0)), 0]  // [B=1, C=2, S=2]
        let engine = try LovaszEngine(backend: .cpu)
        let (result, gradient) = try engine.lossAndGradient(
            scores: scores, shape: [1, 2, 2], labels: Self.softmaxLabels, options: .softmax())
        let expected = [9.0 / 64, -1.0 / 25, -9.0 / 64, 1.0 / 25]
        expectLoss(result.loss, 0.2375, "engine")
        expectGradient(gradient, expected, "engine")
        #expect(result.classesCounted == 2)
        let naive = NaiveLovasz.loss(scores: scores, shape: [1, 2, 2], labels: Self.softmaxLabels, options: .softmax())
        #expect(abs(naive.loss - 0.2375) < 1e-7)
        for (a, b) in zip(naive.gradient, expected) { #expect(abs(a - b) < 1e-7) }
    }

    @Test func softmaxFromProbabilities() throws {
        let scores: [Float] = [0.25, 0.8, 0.75, 0.2]
        let options = LossOptions.softmax(scoresAre: .probabilities)
        let (result, gradient) = try LovaszEngine(backend: .cpu).lossAndGradient(
            scores: scores, shape: [1, 2, 2], labels: Self.softmaxLabels, options: options)
        expectLoss(result.loss, 0.2375)
        // ∂/∂f directly: class 0 plane (1/4, -1/4), class 1 plane (-1/2, 0).
        expectGradient(gradient, [0.25, -0.25, -0.5, 0])
    }

    /// Hinge, logits (2, -1, 0.5, 0.2), labels (1, 0, 1, 0): signs (1, -1, 1, -1), errors
    /// m = 1 - F·s = (-1, 0, 0.5, 1.2). Order 3, 2, 1, 0 with foreground (0, 1, 0, 1), Σδ = 2.
    /// g: 2/(2·3) = 1/3, 1/3, 1/(3·4) = 1/12, 1/4 (sum 1). Loss 1.2/3 + 0.5/3 + 0 + 0 = 1.7/3.
    /// ∂/∂F = g·[m > 0]·(-s): (0, 0, -1/3, 1/3).
    @Test func hinge() throws {
        let (result, gradient) = try LovaszEngine(backend: .cpu).lossAndGradient(
            scores: [2, -1, 0.5, 0.2], shape: [1, 4], labels: [1, 0, 1, 0] as [UInt8], options: .hinge())
        expectLoss(result.loss, 1.7 / 3)
        expectGradient(gradient, [0, 0, -1.0 / 3, 1.0 / 3])
        let naive = NaiveLovasz.loss(
            scores: [2, -1, 0.5, 0.2] as [Double], shape: [1, 4], labels: [1, 0, 1, 0], options: .hinge())
        #expect(abs(naive.loss - 1.7 / 3) < 1e-15)
    }

    /// Sigmoid, logits (0, ln 3), labels (1, 0): p = (1/2, 3/4), errors (1/2, 3/4).
    /// Order 1, 0 with foreground (0, 1), Σδ = 1: g = (1/2, 1/2). Loss 3/8 + 1/4 = 5/8.
    /// ∂/∂p = (-1/2, 1/2); σ' = p(1 - p) = (1/4, 3/16) → ∂/∂F = (-1/8, 3/32).
    @Test func sigmoid() throws {
        let scores: [Float] = [0, Float(log(3.0))]
        let (result, gradient) = try LovaszEngine(backend: .cpu).lossAndGradient(
            scores: scores, shape: [1, 2], labels: [1, 0] as [Int], options: .sigmoid())
        expectLoss(result.loss, 5.0 / 8)
        expectGradient(gradient, [-1.0 / 8, 3.0 / 32])
        let naive = NaiveLovasz.loss(scores: scores, shape: [1, 2], labels: [1, 0], options: .sigmoid())
        #expect(abs(naive.loss - 5.0 / 8) < 1e-7)
    }

    /// Ties are ordered by pixel index. Hinge, labels (1, 0, 0), logits (0.5, -0.3, -0.3):
    /// errors (0.5, 0.7, 0.7). Order 1, 2 (tie), 0 with foreground (0, 0, 1), Σδ = 1:
    /// g = 1/(1·2) = 1/2, 1/(2·3) = 1/6, 1/3. ∂/∂F = (-1/3, 1/2, 1/6); the other tie order
    /// would give (-1/3, 1/6, 1/2). Loss 0.7/2 + 0.7/6 + 0.5/3.
    @Test func tiesAreOrderedByIndex() throws {
        let (result, gradient) = try LovaszEngine(backend: .cpu).lossAndGradient(
            scores: [0.5, -0.3, -0.3], shape: [1, 3], labels: [1, 0, 0] as [Int32], options: .hinge())
        expectLoss(result.loss, 0.7 / 2 + 0.7 / 6 + 0.5 / 3)
        expectGradient(gradient, [-1.0 / 3, 0.5, 1.0 / 6])
    }
}
