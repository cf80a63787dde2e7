import Lovasz
import Testing

/// ``LossResult/segmentElements``: `Σ` over (group, counted class) segments of the group's
/// valid pixels, counted here by hand. (The engine takes the count from the segment plan
/// both backends share.)
@Suite struct SegmentElementsTests {
    /// Two images of four pixels, three classes, label 255 ignored:
    /// image 0 = [0, 0, 1, ignored] (3 valid, classes {0, 1}), image 1 = [2, 2, 2, 2] (4 valid,
    /// class {2}). Per batch: 7 valid pixels, classes {0, 1, 2}.
    static let handLabels: [UInt8] = [0, 0, 1, 255, 2, 2, 2, 2]

    @Test(arguments: [
        (LossOptions.softmax(ignoreIndex: 255), 3 * 7),
        (.softmax(perImage: true, ignoreIndex: 255), 2 * 3 + 1 * 4),
        (.softmax(classes: .all, perImage: true, ignoreIndex: 255), 3 * 3 + 3 * 4),
        (.softmax(classes: .explicit([0, 1]), ignoreIndex: 255), 2 * 7),
        (.softmax(classes: .explicit([0, 1]), perImage: true, ignoreIndex: 255), 2 * 3 + 2 * 4),
        // Classes of weight 0 are not sorted.
        (.softmax(classes: .all, classWeights: [1, 0, 2], perImage: true, ignoreIndex: 255), 2 * 3 + 2 * 4),
        (.softmax(classWeights: [0, 1, 1], ignoreIndex: 255), 2 * 7),
        (.softmax(), 3 * 8),
        // Ignoring class 2 leaves image 0 (4 pixels, classes {0, 1}); image 1 is all ignored.
        (.softmax(ignoreIndex: 2), 2 * 4),
        (.softmax(classes: .all, perImage: true, ignoreIndex: 2), 3 * 4),
    ])
    func segmentElementsOfAHandMadeSoftmaxCase(options: LossOptions, expected: Int) throws {
        var labels = Self.handLabels
        if options.ignoreIndex != 255 { labels[3] = 1 }  // image 0 = [0, 0, 1, 1]
        let scores = [Float](repeating: 0, count: 2 * 3 * 4)
        let result = try LovaszEngine(backend: .cpu).loss(scores: scores, shape: [2, 3, 4], labels: labels, options: options)
        #expect(result.segmentElements == expected)
    }

    /// Binary: one class per group with a valid pixel; image 1 is all ignored and adds nothing.
    @Test(arguments: [(true, 3), (false, 3)])
    func segmentElementsOfAHandMadeBinaryCase(perImage: Bool, expected: Int) throws {
        let labels: [Int64] = [0, 1, -1, 0, -1, -1, -1, -1]
        let scores = [Float](repeating: 0, count: 2 * 4)
        let result = try LovaszEngine(backend: .cpu).loss(
            scores: scores, shape: [2, 4], labels: labels, options: .hinge(perImage: perImage, ignoreIndex: -1))
        #expect(result.segmentElements == expected)
    }
}
