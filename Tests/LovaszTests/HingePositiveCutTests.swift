import Lovasz
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The hinge's sort stops at the last positive error (``SortKey/lastPositiveError``): its terms
/// `max(0, e)·g` and their gradients vanish for errors ≤ 0. Confident logits (a margin of 4, most
/// errors negative), errors of exactly 0 and every error ≤ 0 give the naive loss and gradient,
/// on the standard sizes and on the forced parallel ones, on one and several threads.
@Suite struct HingePositiveCutTests {
    @Test func lastPositiveErrorSeparatesTheSigns() {
        let smallest = Float.leastNonzeroMagnitude
        #expect(SortKey.pack(error: smallest, rank: Int(Int32.max), foreground: true) <= SortKey.lastPositiveError)
        #expect(SortKey.pack(error: .greatestFiniteMagnitude, rank: 0, foreground: false) <= SortKey.lastPositiveError)
        for error: Float in [0, -0.0, -smallest, -1, -.greatestFiniteMagnitude] {
            #expect(SortKey.pack(error: error, rank: 0, foreground: false) > SortKey.lastPositiveError, "\(error)")
        }
    }

    @Test(arguments: [(perImage: false, wrong: UInt64(3)), (false, 0), (true, 3), (true, 0)])
    func confidentLogitsMatchTheNaiveLoss(perImage: Bool, wrong: UInt64) throws {
        let shape = [3, 40, 37]
        let (scores, labels) = ConfidentHinge.make(count: shape.reduce(1, *), insideMargin: wrong, seed: 40 + wrong)
        let problem = RandomProblemInputs(shape: shape, scores: scores, labels: labels)
        let options = LossOptions.hinge(perImage: perImage, ignoreIndex: 255)
        let naive = NaiveLovasz.loss(scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
        if wrong == 0 {
            // Every error is at most 0: nothing to sort, a zero loss and gradient.
            #expect(naive.loss == 0)
            #expect(naive.gradient.allSatisfy { $0 == 0 })
        }
        try Self.expectNaive(problem, options: options, naive: naive)
    }

    /// Every foreground pixel on the wrong side (errors 1.5-4, all kept by the hinge's cut),
    /// background errors on both sides of them: the keys after the last foreground one are
    /// dropped after the key pass (``SegmentWork/run``); the naive loss and gradient on every
    /// path, per image and per batch.
    @Test(arguments: [false, true])
    func foregroundAllWrongMatchesTheNaiveLoss(perImage: Bool) throws {
        var random = SplitMix64(seed: 77)
        let shape = [3, 41, 39]
        let count = shape.reduce(1, *)
        var scores = [Float](repeating: 0, count: count), labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            labels[i] = random.below(13) == 0 ? 255 : random.below(5) == 0 ? 1 : 0
            scores[i] = labels[i] == 1 ? -random.uniform(0.5, 3) : random.uniform(-3, 3)
        }
        let problem = RandomProblemInputs(shape: shape, scores: scores, labels: labels)
        let options = LossOptions.hinge(perImage: perImage, ignoreIndex: 255)
        let naive = NaiveLovasz.loss(scores: scores, shape: shape, labels: labels, options: options)
        try Self.expectNaive(problem, options: options, naive: naive)
    }

    /// The naive loss and gradient on one thread with the standard sizes and on two and three
    /// with the forced parallel ones, every gradient bit for bit the one-thread one.
    static func expectNaive(_ problem: RandomProblemInputs, options: LossOptions, naive: NaiveLossResult) throws {
        let one = try problem.compute(options: options, backend: CPUBackend(workers: 1))
        for (threads, tuning) in [(1, CPUSortTuning.standard), (2, ParallelSortPathTests.forced), (3, ParallelSortPathTests.forced)] {
            let result = try problem.compute(options: options, backend: CPUBackend(workers: threads, tuning: tuning))
            expectLoss(result.loss, naive.loss, "\(threads) threads, \(options)")
            expectGradient(result.gradient, naive.gradient, "\(threads) threads, \(options)")
            #expect(result.gradient.map(\.bitPattern) == one.gradient.map(\.bitPattern), "\(threads) threads")
        }
    }
}
