import Lovasz
import Testing

/// The cumulative counts are exact integers past 2^24 pixels, where a float cumsum stalls
/// (2^24 + 1 is not a float). One group of 2^24 + 16 pixels through the hinge (about 3 s
/// and 0.5 GB in a debug build): all logits 0, so every error is 1 and the order is the pixel
/// order; foreground at ranks 0, n-2 and n-1 (Σδ = 3).
@Suite struct LargeCountTests {
    @Test func countsPast2To24AreExact() throws {
        let n = (1 << 24) + 16
        let scores = [Float](repeating: 0, count: n)
        var labels = [UInt8](repeating: 0, count: n)
        for rank in [0, n - 2, n - 1] { labels[rank] = 1 }
        let (result, gradient) = try LovaszEngine(backend: .cpu).lossAndGradient(
            scores: scores, shape: [1, n], labels: labels, options: .hinge())

        // Σ g telescopes to Δ(all pixels) = n/n = 1, and every error is 1.
        #expect(abs(result.loss - 1) < 1e-9)
        // Rank 0 (foreground): union 3, g = 1/3; ∂/∂F = -g for the foreground.
        // Background at rank r: union r + 2, intersection 2, g = 2/((r+2)(r+3)); ∂/∂F = +g.
        // Ranks n-2, n-1 (foreground): union n, g = 1/n each.
        func expectRelative(_ rank: Int, _ exact: Double) {
            let value = Double(gradient[rank])
            #expect(abs(value - exact) <= 2e-7 * abs(exact), "rank \(rank): \(value) vs exact \(exact)")
        }
        expectRelative(0, -1.0 / 3)
        for r in [1, 2, 1 << 20, (1 << 24) - 1, 1 << 24, (1 << 24) + 1, (1 << 24) + 7, n - 3] {
            expectRelative(r, 2 / (Double(r + 2) * Double(r + 3)))
        }
        expectRelative(n - 2, -1 / Double(n))
        expectRelative(n - 1, -1 / Double(n))
    }
}
