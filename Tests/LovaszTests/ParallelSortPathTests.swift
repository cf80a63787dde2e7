import Lovasz
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The CPU path with its sizes shrunk so that small problems take every parallel route:
/// threads sharing one segment, the MSD pass over chunks of pixels (its digit widened from a
/// sample of the keys on one thread), buckets sorted in runs of neighbours (in each worker's own
/// working space when they fit it), nested MSD passes inside buckets, the chunked walk, the
/// walk's plane stored in parts by threads that send each other the entries of their parts
/// (the foreground keys of each run counted by the sort or before the walk), the MSD scatter's
/// items stored from both ends, and gradient planes zeroed by streaming stores. The sort is unique, so the gradient must equal the
/// standard path's bit for bit; the loss is summed in other chunks, so it agrees to rounding.
@Suite struct ParallelSortPathTests {
    static let forced = CPUSortTuning(
        cacheResidentKeys: 40, targetBucket: 4, targetBucketAlone: 4, sampledDigitKeys: 41, crowdedBucket: 4,
        topBitsFirstSegmentKeys: 100,
        bucketRunKeys: 1, streamingZeroPixels: 0, ownBucketScratchKeys: 41, minimumChunkPixels: 5,
        scatterWalkPixels: 0, walkStoreParts: 2, walkChunk: 16,
        splitBelow: 1000,
        chunksPerWorker: 3, msdBlockKeys: 3, msdItemsTakenFromBack: 2, singleThreadedBelow: 0)

    static func compute(
        _ problem: RandomProblem, options: LossOptions, backend: CPUBackend
    ) throws -> (loss: Double, gradient: [Float]) {
        var gradient = [Float](repeating: .nan, count: problem.scores.count)
        let loss = try problem.scores.withUnsafeBufferPointer { scores in
            try problem.labels.withUnsafeBufferPointer { labels in
                try gradient.withUnsafeMutableBufferPointer { gradient in
                    let lossProblem = try LossProblem(scores: scores, shape: problem.shape, labels: labels, options: options)
                    return try backend.compute(lossProblem, gradient: gradient)
                }
            }
        }
        return (loss, gradient)
    }

    @Test(arguments: RandomProblems.all)
    func forcedParallelPathMatchesReference(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        for options in problem.optionVariants {
            let naive = NaiveLovasz.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            let standard = try Self.compute(problem, options: options, backend: CPUBackend(workers: 1))
            for threads in [1, 3] {
                let forced = try Self.compute(problem, options: options, backend: CPUBackend(workers: threads, tuning: Self.forced))
                expectLoss(forced.loss, naive.loss, "\(recipe) \(options), \(threads) threads")
                expectGradient(forced.gradient, naive.gradient, "\(recipe) \(options), \(threads) threads")
                #expect(forced.gradient.map(\.bitPattern) == standard.gradient.map(\.bitPattern), "\(recipe) \(options)")
                #expect(abs(forced.loss - standard.loss) <= 1e-12 * max(1, abs(standard.loss)), "\(recipe) \(options)")
            }
        }
    }

    /// The standard sizes, but with threads even on small problems: segments handed out one
    /// per thread, the cut pass split over groups, give the one-thread result bit for bit.
    @Test(arguments: RandomProblems.all)
    func segmentsOnSeveralThreadsMatchOneThread(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        let threaded = CPUSortTuning(singleThreadedBelow: 0)
        for options in problem.optionVariants {
            let one = try Self.compute(problem, options: options, backend: CPUBackend(workers: 1))
            let many = try Self.compute(problem, options: options, backend: CPUBackend(workers: 3, tuning: threaded))
            #expect(many.loss.bitPattern == one.loss.bitPattern, "\(recipe) \(options)")
            #expect(many.gradient.map(\.bitPattern) == one.gradient.map(\.bitPattern), "\(recipe) \(options)")
        }
    }

    /// One large segment (a per-batch hinge) with ties and signed errors, on the standard
    /// sizes (above the MSD threshold): several threads give the one-thread result bit for
    /// bit, and the forced sizes the same gradient.
    @Test func oneLargeSegmentOnSeveralThreads() throws {
        var random = SplitMix64(seed: 11)
        let shape = [2, 190, 200]
        let count = shape.reduce(1, *)
        let scores: [Float] = (0..<count).map { _ in
            random.next() % 4 == 0 ? 0.5 : Float.random(in: -4...4, using: &random)
        }
        let labels: [UInt8] = (0..<count).map { _ in random.next() % 7 == 0 ? 255 : UInt8(random.next() % 2) }
        let options = LossOptions.hinge(perImage: false, ignoreIndex: 255)
        let one = try LovaszEngine(backend: .cpu, threads: 1).lossAndGradient(
            scores: scores, shape: shape, labels: labels, options: options)
        for threads in [2, 4] {
            let many = try LovaszEngine(backend: .cpu, threads: threads).lossAndGradient(
                scores: scores, shape: shape, labels: labels, options: options)
            #expect(many.result.loss.bitPattern == one.result.loss.bitPattern, "\(threads) threads")
            #expect(many.gradient.map(\.bitPattern) == one.gradient.map(\.bitPattern), "\(threads) threads")
        }
        // The walk's plane stored in two or three parts by threads that send each other the
        // entries of their parts, in runs of one chunk or several, on any processor.
        let inputs = RandomProblemInputs(shape: shape, scores: scores, labels: labels.map { $0 == 255 ? -1 : Int32($0) })
        let hinge = LossOptions.hinge(perImage: false, ignoreIndex: -1)
        for (parts, threads, runs) in [(2, 2, 8), (3, 3, 1), (2, 4, 2), (2, 5, 8)] {
            let tuning = CPUSortTuning(
                scatterWalkPixels: 0, walkStoreParts: parts, walkRunsPerWorker: runs, walkChunk: 1000, singleThreadedBelow: 0)
            let reference = try inputs.compute(options: hinge, backend: CPUBackend(workers: 1, tuning: tuning))
            let many = try inputs.compute(options: hinge, backend: CPUBackend(workers: threads, tuning: tuning))
            let label = "\(parts) parts, \(threads) threads, \(runs) runs a thread"
            #expect(many.loss.bitPattern == reference.loss.bitPattern, "\(label)")
            #expect(many.gradient.map(\.bitPattern) == reference.gradient.map(\.bitPattern), "\(label)")
        }
    }

    /// Several threads on one segment with a top-digit target far above the segment's size:
    /// the fine counts are summed down to a one- or two-bit digit (``ParallelKeySort/digitBits``)
    /// and the large buckets sorted by nested passes; the gradient is the one-thread one.
    @Test func countsCoarsenedToANarrowDigit() throws {
        var random = SplitMix64(seed: 12)
        let shape = [1, 3, 70, 90]
        let count = shape.reduce(1, *)
        let scores: [Float] = (0..<count).map { _ in
            random.next() % 5 == 0 ? 1.5 : Float.random(in: -3...3, using: &random)
        }
        let labels: [Int32] = (0..<(count / 3)).map { _ in random.next() % 9 == 0 ? -1 : Int32(random.next() % 3) }
        let problem = RandomProblemInputs(shape: shape, scores: scores, labels: labels)
        let coarse = CPUSortTuning(
            cacheResidentKeys: 300, targetBucket: 1 << 30, minimumChunkPixels: 50, walkChunk: 1000, splitBelow: 1000,
            singleThreadedBelow: 0)
        let options = LossOptions.softmax(ignoreIndex: -1)
        let one = try problem.compute(options: options, backend: CPUBackend(workers: 1))
        for threads in [2, 3] {
            let many = try problem.compute(options: options, backend: CPUBackend(workers: threads, tuning: coarse))
            #expect(many.gradient.map(\.bitPattern) == one.gradient.map(\.bitPattern), "\(threads) threads")
            #expect(abs(many.loss - one.loss) <= 1e-12 * max(1, abs(one.loss)), "\(threads) threads")
        }
    }
}

/// Scores and labels of a hand-made problem, computed on a given CPU backend.
struct RandomProblemInputs {
    let shape: [Int]
    let scores: [Float]
    let labels: [Int32]

    /// The problem the CPU path computes (shapes and labels checked, segments planned).
    func lossProblem(options: LossOptions) throws -> LossProblem {
        try scores.withUnsafeBufferPointer { scores in
            try labels.withUnsafeBufferPointer { labels in
                try LossProblem(scores: scores, shape: shape, labels: labels, options: options)
            }
        }
    }

    func compute(options: LossOptions, backend: CPUBackend) throws -> (loss: Double, gradient: [Float]) {
        var gradient = [Float](repeating: .nan, count: scores.count)
        let loss = try scores.withUnsafeBufferPointer { scores in
            try labels.withUnsafeBufferPointer { labels in
                try gradient.withUnsafeMutableBufferPointer { gradient in
                    let lossProblem = try LossProblem(scores: scores, shape: shape, labels: labels, options: options)
                    return try backend.compute(lossProblem, gradient: gradient)
                }
            }
        }
        return (loss, gradient)
    }
}
