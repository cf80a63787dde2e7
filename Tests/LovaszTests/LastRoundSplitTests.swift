import CLovaszCPU
import Lovasz
import LovaszTestSupport
import Testing
@testable import Lovasz

/// Segments of a last round that would leave threads idle, split by key range into parts
/// (``SegmentParts``): with the split's sizes shrunk so that small problems take it, every
/// thread count gives the one-thread gradient bit for bit and the one-thread loss of the same
/// walk chunk bit for bit (the terms of chunks that straddle two parts summed in sorted order).
@Suite struct LastRoundSplitTests {
    /// Small sizes: groups of 64 pixels or more split, chunks of 16 sorted keys (so that parts
    /// start and end inside chunks and close several), a sample of 4 blocks of 8 pixels.
    static let split = CPUSortTuning(
        walkChunk: 16, splitLastRoundPixels: 64, splitSegmentKeys: 8, splitSampleBlocks: 4, splitSampleBlockPixels: 8,
        singleThreadedBelow: 0)
    /// The same, with the parts' sorts sent through the MSD pass and nested buckets.
    static let splitThroughMSD = CPUSortTuning(
        cacheResidentKeys: 40, targetBucketAlone: 4, sampledDigitKeys: 41, crowdedBucket: 4,
        walkChunk: 16, splitLastRoundPixels: 64, splitSegmentKeys: 8, splitSampleBlocks: 4, splitSampleBlockPixels: 8,
        singleThreadedBelow: 0)
    /// Splits whose sample always finds too few keys: the first part does the whole segment.
    static let splitTooFewKeys = CPUSortTuning(
        walkChunk: 16, splitLastRoundPixels: 64, splitSegmentKeys: 1 << 30, splitSampleBlocks: 4,
        splitSampleBlockPixels: 8, singleThreadedBelow: 0)

    /// The same as ``split``, with equal shares, and with the first part's share 1.9 times the
    /// mean and the last's 0.1 (``CPUSortTuning/splitShareSlope``).
    static let splitEven: CPUSortTuning = {
        var tuning = split
        tuning.splitShareSlope = 0
        return tuning
    }()
    static let splitSteep: CPUSortTuning = {
        var tuning = split
        tuning.splitShareSlope = 0.9
        return tuning
    }()

    /// Segment counts that leave a last round of one or two segments on 2, 3 and 4 threads.
    static let recipes: [RandomRecipe] = [
        RandomRecipe(
            "softmax 2x3x12x15", loss: .softmax, batch: 2, classes: 3, spatial: [12, 15], ignoreIndex: 255,
            ignoredFraction: 0.05, tiedFraction: 0.05, seed: 801),
        RandomRecipe("softmax 1x5x14x13", loss: .softmax, batch: 1, classes: 5, spatial: [14, 13], tiedFraction: 0.3, seed: 802),
        RandomRecipe(
            "softmax 2x7x10x11", loss: .softmax, batch: 2, classes: 7, spatial: [10, 11], ignoreIndex: 255,
            ignoredFraction: 0.2, seed: 803),
        RandomRecipe("softmax 1x6x12x12 tied", loss: .softmax, batch: 1, classes: 6, spatial: [12, 12], tiedFraction: 0.9, seed: 804),
        RandomRecipe("hinge 3x12x13", loss: .hinge, batch: 3, spatial: [12, 13], tiedFraction: 0.05, seed: 805),
        RandomRecipe("sigmoid 5x9x9", loss: .sigmoid, batch: 5, spatial: [9, 9], seed: 806),
    ]

    static func compute(
        _ problem: RandomProblem, options: LossOptions, backend: CPUBackend
    ) throws -> (loss: Double, gradient: [Float]) {
        try ParallelSortPathTests.compute(problem, options: options, backend: backend)
    }

    @Test(arguments: recipes, [split, splitThroughMSD, splitTooFewKeys, splitEven, splitSteep])
    func splitLastRoundGivesTheOneThreadBits(recipe: RandomRecipe, tuning: CPUSortTuning) throws {
        let problem = recipe.make()
        for options in problem.optionVariants.prefix(4) {
            let naive = NaiveLovasz.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            let standard = try Self.compute(problem, options: options, backend: CPUBackend(workers: 1))
            let one = try Self.compute(problem, options: options, backend: CPUBackend(workers: 1, tuning: tuning))
            expectLoss(one.loss, naive.loss, "\(recipe) \(options)")
            expectGradient(one.gradient, naive.gradient, "\(recipe) \(options)")
            for threads in [2, 3, 4] {
                let many = try Self.compute(problem, options: options, backend: CPUBackend(workers: threads, tuning: tuning))
                #expect(many.gradient.map(\.bitPattern) == standard.gradient.map(\.bitPattern), "\(recipe) \(options), \(threads) threads")
                #expect(many.loss.bitPattern == one.loss.bitPattern, "\(recipe) \(options), \(threads) threads")
            }
        }
    }

    /// Where each part starts in the sorted sample: equal shares at slope 0, then shares falling
    /// linearly from the first part to the last, every part at least one key of a large sample.
    @Test(arguments: [2, 3, 4, 7], [0.0, 0.14, 0.5, 0.9])
    func partsStartWhereTheirSharesSay(parts: Int, slope: Double) throws {
        let sampled = 10_000
        var starts = [0]
        for part in 1..<parts {
            starts.append(SegmentParts.firstSample(ofPart: part, parts: parts, sampled: sampled, slope: slope))
        }
        starts.append(sampled)
        let shares = zip(starts.dropFirst(), starts).map { $0 - $1 }
        // Each share, worked out here: (1 + slope · (parts - 1 - 2p) / (parts - 1)) / parts of the sample.
        for (p, share) in shares.enumerated() {
            let expected = (1 + slope * Double(parts - 1 - 2 * p) / Double(parts - 1)) / Double(parts) * Double(sampled)
            #expect(abs(Double(share) - expected) <= 1.0, "part \(p) of \(parts), slope \(slope): \(share) keys")
            #expect(share >= 1)
        }
        if slope == 0 {
            #expect(starts.dropFirst().dropLast().enumerated().allSatisfy { $1 == ($0 + 1) * sampled / parts })
        } else {
            #expect(zip(shares, shares.dropFirst()).allSatisfy { $0 > $1 }, "\(shares)")
        }
        // The 2×3×200×200 call's split: 57% of the keys to the first part.
        #expect(SegmentParts.firstSample(ofPart: 1, parts: 2, sampled: 100, slope: CPUSortTuning.standard.splitShareSlope) == 57)
    }

    /// Which segments of a round are split, and into how many parts.
    @Test(arguments: [
        (segments: 3, teams: 2, split: 1, parts: 2), (5, 4, 1, 4), (6, 4, 2, 2), (7, 3, 1, 3), (7, 4, 0, 1),
        (4, 2, 0, 1), (2, 3, 2, 1),
    ])
    func lastRoundPlan(segments: Int, teams: Int, split: Int, parts: Int) throws {
        let recipe = RandomRecipe(
            "plan", loss: .softmax, batch: 1, classes: segments, spatial: [16, 16], seed: UInt64(segments * 10 + teams))
        let problem = recipe.make()
        let lossProblem = try problem.scores.withUnsafeBufferPointer { scores in
            try problem.labels.withUnsafeBufferPointer { labels in
                try LossProblem(scores: scores, shape: problem.shape, labels: labels, options: problem.options(perImage: false))
            }
        }
        let plan = lossProblem.plan
        var planned: [SegmentPlan.Segment] = []
        plan.appendSegments(ofGroups: 0 ..< plan.groupCount, to: &planned)
        let order = Array(planned.indices)
        let result = SegmentSorter.lastRoundSplit(
            order: order, segments: planned, teams: teams, plan: plan, tuning: Self.split)
        let expected = split > 0 && parts >= 2 ? (split, parts) : (0, 1)
        #expect(result.segments == expected.0 && result.parts == expected.1, "\(segments) segments on \(teams) teams")
        // Groups below the size stay whole.
        var large = Self.split
        large.splitLastRoundPixels = 257
        let whole = SegmentSorter.lastRoundSplit(order: order, segments: planned, teams: teams, plan: plan, tuning: large)
        #expect(whole.segments == 0 && whole.parts == 1)
    }
}
