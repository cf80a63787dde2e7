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

/// The hinge's key passes validate the scores when every group has foreground
/// (``CPUBackend/keyPassesValidate(_:)``): a NaN or infinity anywhere (an ignored pixel's, the
/// middle of a run, an image's last pixel) is reported at its first position, on every path
/// (one thread, threads sharing a segment, a last round split by key range).
@Suite struct HingeKeyPassValidationTests {
    static func bad(_ value: Float, at position: Int, shape: [Int], ignored: Bool) -> RandomProblemInputs {
        var random = SplitMix64(seed: 5)
        let count = shape.reduce(1, *)
        var scores = (0..<count).map { _ in random.uniform(-3, 3) }
        var labels = (0..<count).map { _ in Int32(random.below(2)) }
        scores[position] = value
        if ignored { labels[position] = 255 }
        scores[count - 1] = .nan  // a later bad value is not the one reported
        return RandomProblemInputs(shape: shape, scores: scores, labels: labels)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity], [false, true])
    func firstBadScoreIsReported(value: Float, perImage: Bool) throws {
        // [3, 190, 190]: three images of 36 100 pixels, a last round split on two threads.
        let shape = [3, 190, 190]
        let options = LossOptions.hinge(perImage: perImage, ignoreIndex: 255)
        for (position, ignored) in [(77, true), (36_100 + 1234, false), (2 * 36_100 - 1, false)] {
            let problem = Self.bad(value, at: position, shape: shape, ignored: ignored)
            for (threads, tuning) in [
                (1, CPUSortTuning.standard), (2, CPUSortTuning.standard), (2, ParallelSortPathTests.forced),
                (3, ParallelSortPathTests.forced),
            ] {
                #expect(CPUBackend.keyPassesValidate(try problem.lossProblem(options: options)))
                let error = #expect(throws: LovaszError.self, "\(threads) threads, position \(position)") {
                    _ = try problem.compute(options: options, backend: CPUBackend(workers: threads, tuning: tuning))
                }
                guard case .nonFiniteScore(let reported, let reportedValue) = error else {
                    Issue.record("expected a non-finite score, got \(String(describing: error))")
                    continue
                }
                #expect(reported == [position / 36_100, position % 36_100 / 190, position % 190], "\(threads) threads")
                #expect(reportedValue.bitPattern == value.bitPattern || (reportedValue.isNaN && value.isNaN))
            }
        }
    }

    /// A group without foreground takes the separate scan (its key passes do not read every
    /// score), which reports the first bad score as before.
    @Test func groupWithoutForegroundIsScannedFirst() throws {
        var problem = Self.bad(.infinity, at: 40_000, shape: [3, 190, 190], ignored: false)
        var labels = problem.labels
        for i in 0..<36_100 { labels[i] = 0 }
        problem = RandomProblemInputs(shape: problem.shape, scores: problem.scores, labels: labels)
        let options = LossOptions.hinge(perImage: true)
        #expect(!CPUBackend.keyPassesValidate(try problem.lossProblem(options: options)))
        let error = #expect(throws: LovaszError.self) {
            _ = try problem.compute(options: options, backend: CPUBackend(workers: 2))
        }
        #expect(error == .nonFiniteScore(position: [1, 20, 100], value: .infinity))
    }
}
