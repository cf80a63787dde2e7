import Dispatch
import Lovasz
import LovaszTestSupport
import Synchronization
import Testing

/// Results do not depend on the number of threads, and one engine serves many threads at once.
@Suite struct ConcurrencyTests {
    /// Problems large enough to split over threads: several 1024-pixel chunks per image, many
    /// segments, ignored pixels.
    static let recipes: [RandomRecipe] = [
        RandomRecipe(
            "softmax 2x5x40x37", loss: .softmax, batch: 2, classes: 5, spatial: [40, 37], ignoreIndex: 255,
            ignoredFraction: 0.05, tiedFraction: 0.05, seed: 601),
        RandomRecipe("hinge 3x50x41", loss: .hinge, batch: 3, spatial: [50, 41], tiedFraction: 0.05, seed: 602),
        RandomRecipe("sigmoid 3x45x29", loss: .sigmoid, batch: 3, spatial: [45, 29], seed: 603),
    ]

    @Test(arguments: recipes) func sameBitsForAnyThreadCount(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        for options in problem.optionVariants.prefix(4) {
            let single = try LovaszEngine(backend: .cpu, threads: 1).lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            for threads in [2, 3, 8] {
                let many = try LovaszEngine(backend: .cpu, threads: threads).lossAndGradient(
                    scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
                #expect(many.result.loss.bitPattern == single.result.loss.bitPattern, "\(threads) threads, \(options)")
                #expect(many.gradient.map(\.bitPattern) == single.gradient.map(\.bitPattern), "\(threads) threads, \(options)")
            }
        }
    }

    @Test func manyThreadsShareOneEngine() throws {
        let engine = try LovaszEngine(backend: .cpu, threads: 2)
        let problems = Self.recipes.map { $0.make() } + RandomProblems.catalog(.softmax).prefix(3).map { $0.make() }
        let options = problems.map { $0.options(perImage: true) }
        let expected = try zip(problems, options).map { problem, options in
            try engine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
        }
        let calls = 4 * problems.count
        let mismatches = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: calls) { call in
            let index = call % problems.count
            let problem = problems[index]
            do {
                let (result, gradient) = try engine.lossAndGradient(
                    scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options[index])
                if result != expected[index].result || gradient != expected[index].gradient {
                    mismatches.withLock { $0.append("call \(call): \(problem)") }
                }
            } catch {
                mismatches.withLock { $0.append("call \(call): \(error)") }
            }
        }
        #expect(mismatches.withLock { $0 } == [])
    }
}
