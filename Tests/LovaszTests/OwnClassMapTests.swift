import Lovasz
import LovaszTestSupport
import Testing
@testable import Lovasz

/// uint8 labels that are their own one-byte class map (fewer than 128 classes; the ignore value
/// 255, none, or one no uint8 equals) are only checked and counted, and the map borrows the
/// caller's bytes: its entries, counts and errors are those of the labels' definition, and every
/// loss and gradient is the one int32 labels give, bit for bit, and the naive one.
@Suite struct OwnClassMapTests {
    @Test(arguments: [
        (classes: 2, ignore: Int?.some(255), own: true), (2, nil, true), (21, 300, true), (21, -1, true),
        (127, 255, true), (128, 255, false), (2, 0, false), (21, 254, false),
    ])
    func whichLabelsAreTheirOwnMap(classes: Int, ignore: Int?, own: Bool) {
        #expect(LabelMap.isOwnClassMap(UInt8.self, labelClasses: classes, ignoreIndex: ignore) == own)
        #expect(!LabelMap.isOwnClassMap(Int8.self, labelClasses: classes, ignoreIndex: ignore))
        #expect(!LabelMap.isOwnClassMap(Int64.self, labelClasses: classes, ignoreIndex: ignore))
    }

    static let shape = (batch: 5, classes: 21, spatial: 1037)

    static func labels(seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0 ..< shape.batch * shape.spatial).map { _ in
            random.next() % 6 == 0 ? 255 : UInt8(random.next() % UInt64(shape.classes))
        }
    }

    /// The map's entries are the caller's bytes themselves (the ignore value read as -1), and
    /// its counts the labels', whatever the number of threads.
    @Test(arguments: [1, 2, 3])
    func mapReadsTheLabelsThemselves(workers: Int) throws {
        let (batch, classes, spatial) = Self.shape
        let labels = Self.labels(seed: UInt64(workers))
        let shape = try ProblemShape(scores: [batch, classes, spatial], loss: .softmax)
        var counts = [UInt32](repeating: 0, count: batch * classes)
        for (i, label) in labels.enumerated() where label != 255 { counts[i / spatial * classes + Int(label)] += 1 }
        try labels.withUnsafeBufferPointer { bytes in
            let map = try LabelMap(labels: bytes, shape: shape, ignoreIndex: 255, workers: workers)
            map.classOf.withIndices { indices in
                #expect(UnsafeRawPointer(indices.pointers.narrow) == UnsafeRawPointer(bytes.baseAddress))
            }
            #expect((0 ..< labels.count).map { map.classOf[$0] } == labels.map { $0 == 255 ? -1 : Int32($0) })
            #expect(map.counts == counts)
            #expect(map.hasIgnored)
        }
    }

    /// A bad label (a class too large, or 255 with no ignore value): the first in C order is
    /// reported, as the same labels as int64 (mapped into a copy) report it.
    @Test(arguments: [(bad: UInt8(21), ignore: Int?.some(255)), (200, 300), (255, nil)])
    func firstBadLabelIsReported(bad: UInt8, ignore: Int?) throws {
        let (batch, classes, spatial) = Self.shape
        var labels = Self.labels(seed: 7).map { $0 == 255 && ignore != 255 ? 0 : $0 }
        labels[3 * spatial + 17] = bad
        labels[4 * spatial + 2] = bad
        let shape = try ProblemShape(scores: [batch, classes, spatial], loss: .softmax)
        func failure<Label: FixedWidthInteger>(_ labels: [Label]) -> String {
            labels.withUnsafeBufferPointer { labels in
                do {
                    _ = try LabelMap(labels: labels, shape: shape, ignoreIndex: ignore, workers: 2)
                    return "no error"
                } catch {
                    return "\(error)"
                }
            }
        }
        let reported = failure(labels)
        #expect(reported.contains("\(bad)"), "\(reported)")
        #expect(reported == failure(labels.map { Int64($0) }))
    }

    /// Every random problem whose labels fit uint8: the same loss and gradient as from int32
    /// labels, bit for bit, and the naive ones, on one and two threads.
    @Test(arguments: RandomProblems.all)
    func lossesAreThoseOfInt32Labels(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        guard problem.labels.allSatisfy({ UInt8(exactly: $0) != nil }) else { return }
        let bytes = problem.labels(as: UInt8.self)
        for threads in [1, 2] {
            let engine = try LovaszEngine(backend: .cpu, threads: threads)
            for options in problem.optionVariants {
                let naive = NaiveLovasz.loss(
                    scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
                let wide = try engine.lossAndGradient(
                    scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
                let narrow = try engine.lossAndGradient(
                    scores: problem.scores, shape: problem.shape, labels: bytes, options: options)
                #expect(narrow.0.loss.bitPattern == wide.0.loss.bitPattern, "\(recipe) \(options)")
                #expect(narrow.1.map(\.bitPattern) == wide.1.map(\.bitPattern), "\(recipe) \(options)")
                expectLoss(narrow.0.loss, naive.loss, "\(recipe) \(options)")
                expectGradient(narrow.1, naive.gradient, "\(recipe) \(options)")
            }
        }
    }
}
