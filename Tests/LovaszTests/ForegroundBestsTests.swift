import CLovaszCPU
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
                        let nonFinite = lossProblem.labels.classOf.withIndices { classOf in
                            Probabilities.softmax(
                                logits: scores, into: probabilities, shape: shape, workers: 3,
                                foreground: (bests, classOf))
                        }
                        #expect(!nonFinite)
                        let plan = lossProblem.plan
                        var segments: [SegmentPlan.Segment] = []
                        plan.appendSegments(ofGroups: 0 ..< plan.groupCount, to: &segments)
                        let chunk = SegmentChunk(groups: 0 ..< plan.groupCount, segments: segments)
                        try #require(!segments.isEmpty)
                        lossProblem.labels.classOf.withIndices { classOf in
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
                lossProblem.labels.classOf.withIndices { classOf in
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

/// `lovasz_cpu_foreground_bests` (class by class in vectors for few channels: sixteen pixels
/// with AVX-512F, eight with AVX2), its eight-pixel form and its scalar form against the
/// definition written here: per class, the largest `descending word << 32 | pixel` over the
/// run's pixels of that label.
@Suite struct ForegroundBestsRunTests {
    /// The definition, from ``SortKey`` (0 for a class without foreground).
    static func naiveBests(
        probabilities: [Float], length: Int, channels: Int, classes: [Int32], firstPixel: Int
    ) -> [UInt64] {
        var best = [UInt64](repeating: 0, count: channels)
        for i in 0..<length {
            let label = Int(classes[i])
            guard label >= 0 && label < channels else { continue }
            let word = UInt64(SortKey.descending(1 - probabilities[label * length + i]))
            best[label] = max(best[label], word << 32 | UInt64(firstPixel + i))
        }
        return best
    }

    /// Labels drawn pixel by pixel (mixed: the vector form takes every vector) or in runs of
    /// up to 40 equal labels (the vector form skips vectors without the class).
    /// The C function's forms: the widest this processor runs, never more than eight pixels at a
    /// time, one pixel at a time.
    enum Form: String, CaseIterable {
        case widest, eightAtMost, scalar

        var function: @convention(c) (
            UnsafePointer<Float>?, Int, Int, Int, lovasz_classes, UInt64, UnsafeMutablePointer<UInt64>?
        ) -> Void {
            switch self {
            case .widest: lovasz_cpu_foreground_bests
            case .eightAtMost: lovasz_cpu_foreground_bests_avx2_only
            case .scalar: lovasz_cpu_foreground_bests_scalar
            }
        }
    }

    @Test(arguments: [1, 2, 3, 8, 9, 21, 40], Form.allCases)
    func runBestsEqualTheDefinition(channels: Int, form: Form) {
        for labelRuns in [false, true] {
            for narrow in [false, true] { runBests(channels: channels, form: form, labelRuns: labelRuns, narrow: narrow) }
        }
    }

    /// With `narrow`, the class indices one byte each.
    func runBests(channels: Int, form: Form, labelRuns: Bool, narrow: Bool) {
        for length in [1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1000] {
            var random = SplitMix64(seed: UInt64(channels * 1000 + length))
            // Few distinct probabilities, so ties are common; some labels ignored (-1) or out of
            // range; runs where a class is absent.
            let levels: [Float] = [0, 0.25, 0.5, 0.75, 1, 0.3333333, 1e-30]
            let probabilities = (0 ..< channels * length).map { _ in levels[Int(random.next() % UInt64(levels.count))] }
            var classes: [Int32] = []
            while classes.count < length {
                let draw = Int32(random.next() % UInt64(channels + 2))
                let label = draw == Int32(channels + 1) ? -1 : draw == Int32(channels) ? Int32(channels + 5) : draw
                let run = labelRuns ? 1 + Int(random.next() % 40) : 1
                classes += [Int32](repeating: label, count: min(run, length - classes.count))
            }
            let firstPixel = 123
            let expected = Self.naiveBests(
                probabilities: probabilities, length: length, channels: channels, classes: classes, firstPixel: firstPixel)
            var best = [UInt64](repeating: .max, count: channels)
            withClassRun(classes, narrow: narrow) { classes in
                form.function(probabilities, length, channels, length, classes, UInt64(firstPixel), &best)
            }
            #expect(best == expected, "\(form): \(channels) channels, \(length) pixels, label runs \(labelRuns), narrow \(narrow)")
        }
    }
}
