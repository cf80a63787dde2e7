import Lovasz
import LovaszTestSupport
import Testing

/// The CPU path against the naive reference on every recipe of the catalog, with every
/// combination of options that applies to the loss.
@Suite struct RandomProblemTests {
    @Test(arguments: RandomProblems.all) func cpuMatchesNaiveReference(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        let engine = try LovaszEngine(backend: .cpu)
        for options in problem.optionVariants {
            let naive = NaiveLovasz.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            let (result, gradient) = try engine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            expectLoss(result.loss, naive.loss, "\(recipe) \(options)")
            expectGradient(gradient, naive.gradient, "\(recipe) \(options)")
            #expect(result.classesCounted == naive.classesCounted, "\(recipe) \(options)")
            #expect(result.backend == .cpu)

            // The loss alone is the same number as with the gradient.
            let lossOnly = try engine.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            #expect(lossOnly.loss == result.loss, "\(recipe) \(options)")
        }
    }

    @Test func catalogCoversTheAwkwardCases() {
        let recipes = RandomProblems.all
        #expect(recipes.contains { $0.tiedFraction > 0 })
        #expect(recipes.contains { !$0.allIgnoredImages.isEmpty })
        #expect(recipes.contains { !$0.onePixelImages.isEmpty })
        #expect(recipes.contains { !$0.absentClasses.isEmpty })
        #expect(recipes.contains { $0.loss == .softmax && $0.classes == 1 })
        #expect(recipes.contains { $0.classes > 32 })
        #expect(recipes.contains { $0.spatial.count == 3 })
        #expect(recipes.contains { $0.spatial.isEmpty })
        // Shapes are not powers of two.
        let sizes = recipes.map { $0.spatial.reduce(1, *) }.filter { $0 > 1 }
        #expect(sizes.allSatisfy { $0.nonzeroBitCount > 1 })
    }

    @Test func recipesAreDeterministic() {
        for recipe in RandomProblems.all {
            let a = recipe.make(), b = recipe.make()
            #expect(a.scores == b.scores && a.labels == b.labels, "\(recipe)")
        }
        var random = SplitMix64(seed: 0)
        // Reference outputs of SplitMix64 for seed 0 (Vigna's splitmix64.c).
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    /// Ties in the catalog are real: some segment has equal errors on pixels of different
    /// foreground status or on two background pixels, where the tie order changes `g`.
    @Test func tiedRecipesContainTiesThatMatter() {
        for recipe in RandomProblems.all where recipe.tiedFraction > 0 {
            let problem = recipe.make()
            let naive = NaiveLovasz.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels,
                options: problem.options(perImage: false))
            let tied = naive.segments.contains { segment in
                var seen: [Double: Bool] = [:]
                for (e, f) in zip(segment.errors, segment.foreground) {
                    if let other = seen[e], !(other && f) { return true }
                    seen[e] = (seen[e] ?? true) && f
                }
                return false
            }
            #expect(tied, "\(recipe)")
        }
    }
}
