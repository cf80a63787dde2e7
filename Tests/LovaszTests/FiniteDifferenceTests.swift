import Lovasz
import LovaszTestSupport
import Testing

/// Central differences in Double of the naive loss, away from ties and from the hinge's
/// kink, against the naive gradient (which checks its chain rule) and the engine's gradient.
@Suite struct FiniteDifferenceTests {
    static let step = 1e-6

    /// Small problems without deliberate ties, for every loss and score kind.
    static let recipes: [RandomRecipe] = [
        RandomRecipe(
            "softmax 2x4x3x4, ignored, class 3 absent", loss: .softmax, batch: 2, classes: 4,
            spatial: [3, 4], ignoreIndex: 255, ignoredFraction: 0.15, absentClasses: [3], seed: 401),
        RandomRecipe(
            "softmax 2x3x5 probabilities", loss: .softmax, batch: 2, classes: 3, spatial: [5],
            scoresAre: .probabilities, seed: 402),
        RandomRecipe(
            "hinge 3x3x4, ignored", loss: .hinge, batch: 3, spatial: [3, 4], ignoreIndex: 255,
            ignoredFraction: 0.1, seed: 403),
        RandomRecipe("sigmoid 3x3x4", loss: .sigmoid, batch: 3, spatial: [3, 4], seed: 404),
        RandomRecipe(
            "sigmoid 2x5 probabilities, ignored", loss: .sigmoid, batch: 2, spatial: [5],
            scoresAre: .probabilities, ignoreIndex: 7, ignoredFraction: 0.2, seed: 405),
    ]

    @Test(arguments: recipes) func gradientMatchesCentralDifferences(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        let labels = problem.labels.map(Int.init)
        let engine = try LovaszEngine(backend: .cpu)
        for options in problem.optionVariants {
            let scores = problem.scores.map(Double.init)
            let naive = NaiveLovasz.loss(scores: scores, shape: problem.shape, labels: labels, options: options)
            try #require(naive.smallestErrorGap > 100 * Self.step, "\(options): the recipe has near ties")
            var differences = [Double](repeating: 0, count: scores.count)
            for i in scores.indices {
                var plus = scores, minus = scores
                plus[i] += Self.step
                minus[i] -= Self.step
                let up = NaiveLovasz.loss(scores: plus, shape: problem.shape, labels: labels, options: options).loss
                let down = NaiveLovasz.loss(scores: minus, shape: problem.shape, labels: labels, options: options).loss
                differences[i] = (up - down) / (2 * Self.step)
            }
            for (i, (analytic, numeric)) in zip(naive.gradient, differences).enumerated() {
                #expect(abs(analytic - numeric) < 1e-7, "\(options): naive ∂/∂score[\(i)] \(analytic), differences \(numeric)")
            }
            let (_, gradient) = try engine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            expectGradient(gradient, differences, "\(recipe) \(options)")
        }
    }
}
