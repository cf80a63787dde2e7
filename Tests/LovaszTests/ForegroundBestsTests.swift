import LovaszTestSupport
import Testing
@testable import Lovasz

/// The cuts the softmax pass records (``ForegroundBests``) against the cut pass over the
/// scores (``SegmentChunk/foregroundCuts``): the same largest foreground key for every segment.
/// A cut too small would drop keys the loss needs; too large would only cost time, so equality
/// is what is checked.
@Suite struct ForegroundBestsTests {
    static let recipes: [RandomRecipe] = RandomProblems.catalog(.softmax).filter { $0.scoresAre == .logits } + [
        // Images of several softmax runs, with ignored pixels and ties across runs.
        RandomRecipe(
            "softmax 3x4x50x61, 10% ignored, ties", loss: .softmax, batch: 3, classes: 4, spatial: [50, 61],
            ignoreIndex: 255, ignoredFraction: 0.1, tiedFraction: 0.3, seed: 901),
        // Many tiny images handed out several to a run.
        RandomRecipe(
            "softmax 40x3x5x5, ignored", loss: .softmax, batch: 40, classes: 3, spatial: [5, 5],
            ignoreIndex: 255, ignoredFraction: 0.2, seed: 902),
    ]

    @Test(arguments: recipes, [false, true])
    func recordedCutsEqualTheCutPass(recipe: RandomRecipe, perImage: Bool) throws {
        let problem = recipe.make()
        let options = LossOptions(loss: .softmax, perImage: perImage, ignoreIndex: recipe.ignoreIndex)
        try problem.scores.withUnsafeBufferPointer { scores in
            try problem.labels.withUnsafeBufferPointer { labels in
                let lossProblem = try LossProblem(scores: scores, shape: problem.shape, labels: labels, options: options)
                let shape = lossProblem.shape
                var probabilities = [Float](repeating: 0, count: shape.scoreCount)
                var table = [UInt64](repeating: .max, count: ForegroundBests.entryCount(shape: shape))
                try table.withUnsafeMutableBufferPointer { table in
                    try probabilities.withUnsafeMutableBufferPointer { probabilities in
                        let bests = ForegroundBests(table: table.baseAddress!, shape: shape)
                        let nonFinite = lossProblem.labels.classOf.withUnsafeBufferPointer { classOf in
                            Probabilities.softmax(
                                logits: scores, into: probabilities, shape: shape, workers: 3,
                                foreground: (bests, classOf.baseAddress!))
                        }
                        #expect(!nonFinite)
                        let plan = lossProblem.plan
                        var segments: [SegmentPlan.Segment] = []
                        plan.appendSegments(ofGroups: 0 ..< plan.groupCount, to: &segments)
                        let chunk = SegmentChunk(groups: 0 ..< plan.groupCount, segments: segments)
                        try #require(!segments.isEmpty)
                        lossProblem.labels.classOf.withUnsafeBufferPointer { classOf in
                            plan.validPixels.withOptionalBuffer { validPixels in
                                let expected = chunk.foregroundCuts(
                                    lossProblem, values: UnsafeBufferPointer(probabilities), classOf: classOf,
                                    validPixels: validPixels, workers: 2, tuning: .standard)
                                let recorded = segments.map { bests.cut(of: $0, group: plan.group($0.group), validPixels: validPixels) }
                                #expect(recorded == expected, "\(recipe), per image \(perImage)")
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The binary losses' cut scan (`lovasz_cpu_foreground_best`, AVX2 where available) against
/// the general cut pass, on every binary recipe and a two-class softmax, per image and per batch, on one thread and
/// on several with chunks of a few pixels.
@Suite struct BinaryCutTests {
    static let recipes: [RandomRecipe] = RandomProblems.catalog(.hinge) + RandomProblems.catalog(.sigmoid) + [
        RandomRecipe(
            "hinge 3x40x53, 10% ignored, ties", loss: .hinge, batch: 3, spatial: [40, 53],
            ignoreIndex: 255, ignoredFraction: 0.1, tiedFraction: 0.3, seed: 911),
        // Two labels but two segments per group: not a binary loss, the general pass must run.
        RandomRecipe(
            "softmax 2x2x9x11 probabilities", loss: .softmax, batch: 2, classes: 2, spatial: [9, 11],
            scoresAre: .probabilities, seed: 912),
    ]
    static let small = CPUSortTuning(minimumChunkPixels: 5, chunksPerWorker: 3)

    @Test(arguments: recipes, [false, true])
    func binaryScanEqualsTheGeneralPass(recipe: RandomRecipe, perImage: Bool) throws {
        let problem = recipe.make()
        let options = LossOptions(
            loss: recipe.loss, scoresAre: recipe.scoresAre, perImage: perImage, ignoreIndex: recipe.ignoreIndex)
        try problem.scores.withUnsafeBufferPointer { scores in
            try problem.labels.withUnsafeBufferPointer { labels in
                let lossProblem = try LossProblem(scores: scores, shape: problem.shape, labels: labels, options: options)
                let plan = lossProblem.plan
                var segments: [SegmentPlan.Segment] = []
                plan.appendSegments(ofGroups: 0 ..< plan.groupCount, to: &segments)
                let chunk = SegmentChunk(groups: 0 ..< plan.groupCount, segments: segments)
                lossProblem.labels.classOf.withUnsafeBufferPointer { classOf in
                    plan.validPixels.withOptionalBuffer { validPixels in
                        for workers in [1, 3] {
                            let general = chunk.foregroundCuts(
                                lossProblem, values: scores, classOf: classOf, validPixels: validPixels, workers: workers,
                                tuning: Self.small, binaryScan: false)
                            let scanned = chunk.foregroundCuts(
                                lossProblem, values: scores, classOf: classOf, validPixels: validPixels, workers: workers,
                                tuning: Self.small)
                            #expect(scanned == general, "\(recipe), per image \(perImage), \(workers) threads")
                        }
                    }
                }
            }
        }
    }
}
