import Lovasz
import LovaszTestSupport
import Testing

/// Bad input is a thrown ``LovaszError`` naming the problem (and the first bad position),
/// never a number.
@Suite struct BadInputTests {
    let engine: LovaszEngine

    init() throws {
        engine = try LovaszEngine(backend: .cpu)
    }

    /// The flat C-order index of a multi-index.
    static func flat(_ position: [Int], in shape: [Int]) -> Int {
        zip(position, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    static let nonFinite: [Float] = [.nan, .infinity, -.infinity, .signalingNaN]

    @Test(arguments: nonFinite) func nonFiniteScoreNamesTheFirstPosition(bad: Float) throws {
        for (shape, options, position) in [
            ([2, 3, 4, 5], LossOptions.softmax(), [1, 2, 3, 1]),
            ([2, 1, 3, 3], LossOptions.hinge(), [1, 0, 2, 0]),
            ([3, 70_000], LossOptions.sigmoid(), [2, 65_537]),  // past the first scan chunk
        ] {
            let count = shape.reduce(1, *)
            var scores = (0..<count).map { Float($0 % 13) * 0.25 - 1.5 }
            let first = Self.flat(position, in: shape)
            scores[first] = bad
            scores[count - 1] = .nan  // a later bad value is not the one reported
            let labels = [Int32](repeating: 0, count: count / (options.loss == .softmax ? shape[1] : 1))
            let error = #expect(throws: LovaszError.self) {
                try engine.loss(scores: scores, shape: shape, labels: labels, options: options)
            }
            guard case .nonFiniteScore(let reported, let value) = error else {
                Issue.record("expected a non-finite score error, got \(String(describing: error))")
                continue
            }
            #expect(reported == position)
            #expect(value.bitPattern == bad.bitPattern || (value.isNaN && bad.isNaN))
            #expect(error?.description.contains(LovaszTestFormat.position(position)) == true)
        }
    }

    @Test func labelOutOfRangeNamesTheFirstPosition() throws {
        let shape = [2, 3, 4, 5]  // labels [2, 4, 5]
        let scores = [Float](repeating: 0.5, count: 120)
        var labels = [Int32](repeating: 1, count: 40)
        labels[Self.flat([0, 3, 4], in: [2, 4, 5])] = 255  // ignored
        labels[Self.flat([1, 2, 0], in: [2, 4, 5])] = 3
        labels[Self.flat([1, 3, 1], in: [2, 4, 5])] = -2
        let error = #expect(throws: LovaszError.self) {
            try engine.loss(scores: scores, shape: shape, labels: labels, options: .softmax(ignoreIndex: 255))
        }
        #expect(error == .labelOutOfRange(position: [1, 2, 0], label: "3", classes: 3))
        #expect(error?.description.contains("[1, 2, 0]") == true)

        // Negative labels, and the same label value when no ignore index is given.
        labels[Self.flat([1, 2, 0], in: [2, 4, 5])] = 1
        #expect(throws: LovaszError.labelOutOfRange(position: [1, 3, 1], label: "-2", classes: 3)) {
            try engine.loss(scores: scores, shape: shape, labels: labels, options: .softmax(ignoreIndex: 255))
        }
        #expect(throws: LovaszError.labelOutOfRange(position: [0, 3, 4], label: "255", classes: 3)) {
            try engine.loss(scores: scores, shape: shape, labels: labels, options: .softmax())
        }
    }

    /// Large enough for the labels to be mapped image by image on several threads: the error
    /// still names the first bad label in C order, whichever image finishes first.
    @Test(arguments: [1, 3]) func labelOutOfRangeOnSeveralThreadsNamesTheFirst(threads: Int) throws {
        let engine = try LovaszEngine(backend: .cpu, threads: threads)
        let shape = [6, 2, 100, 100]  // labels [6, 100, 100]
        let scores = [Float](repeating: 0.25, count: 120_000)
        var labels = [Int16](repeating: 1, count: 60_000)
        labels[Self.flat([1, 5, 5], in: [6, 100, 100])] = -1  // ignored
        labels[Self.flat([4, 0, 0], in: [6, 100, 100])] = 7
        labels[Self.flat([2, 99, 98], in: [6, 100, 100])] = 2
        labels[Self.flat([5, 0, 0], in: [6, 100, 100])] = -3
        #expect(throws: LovaszError.labelOutOfRange(position: [2, 99, 98], label: "2", classes: 2)) {
            try engine.loss(scores: scores, shape: shape, labels: labels, options: .softmax(ignoreIndex: -1))
        }
        labels[Self.flat([2, 99, 98], in: [6, 100, 100])] = 0
        #expect(throws: LovaszError.labelOutOfRange(position: [4, 0, 0], label: "7", classes: 2)) {
            try engine.loss(scores: scores, shape: shape, labels: labels, options: .softmax(ignoreIndex: -1))
        }
    }

    @Test func binaryLabelsAreZeroOrOne() throws {
        let labels: [UInt8] = [0, 1, 1, 0, 2, 1]
        #expect(throws: LovaszError.labelOutOfRange(position: [1, 0, 1], label: "2", classes: 2)) {
            try engine.loss(scores: [Float](repeating: 0, count: 6), shape: [2, 1, 3], labels: labels, options: .hinge())
        }
        #expect(throws: LovaszError.labelOutOfRange(position: [1, 1], label: "2", classes: 2)) {
            try engine.loss(scores: [Float](repeating: 0, count: 6), shape: [2, 3], labels: labels, options: .sigmoid())
        }
        // A label too large for Int64 is reported with its own value.
        let huge: [UInt64] = [0, 1, .max]
        #expect(throws: LovaszError.labelOutOfRange(position: [0, 2], label: "18446744073709551615", classes: 2)) {
            try engine.loss(scores: [0, 0, 0], shape: [1, 3], labels: huge, options: .hinge())
        }
    }

    static let shapeErrors: [(shape: [Int], scores: Int, labels: Int, options: LossOptions)] = [
        ([2, 3, 4], 23, 8, .softmax()),  // scores do not fill the shape
        ([2, 3, 4], 24, 7, .softmax()),  // labels do not match [2, 4]
        ([2, 3, 4], 24, 24, .softmax()),  // labels shaped like the scores
        ([], 1, 1, .softmax()),  // no dimensions
        ([4], 4, 4, .softmax()),  // softmax without a class axis
        ([2, -3, 4], 24, 8, .softmax()),  // negative dimension
        ([2, 4], 8, 9, .hinge()),
    ]

    @Test(arguments: shapeErrors.indices) func shapeMismatch(index: Int) throws {
        let (shape, scoreCount, labelCount, options) = Self.shapeErrors[index]
        let error = #expect(throws: LovaszError.self) {
            try engine.loss(
                scores: [Float](repeating: 0, count: scoreCount), shape: shape,
                labels: [Int32](repeating: 0, count: labelCount), options: options)
        }
        guard case .invalidShape = error else {
            Issue.record("shape \(shape): expected invalidShape, got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: [[0, 3, 4], [2, 0, 4], [2, 3, 0], [2, 3, 4, 0]]) func emptyInput(shape: [Int]) throws {
        let error = #expect(throws: LovaszError.self) {
            try engine.loss(scores: [], shape: shape, labels: [Int32](), options: .softmax())
        }
        guard case .emptyInput = error else {
            Issue.record("shape \(shape): expected emptyInput, got \(String(describing: error))")
            return
        }
    }

    static let optionErrors: [LossOptions] = [
        .softmax(classes: .explicit([])),
        .softmax(classes: .explicit([0, 3])),
        .softmax(classes: .explicit([-1])),
        .softmax(classes: .explicit([1, 2, 1])),
        .softmax(classWeights: [1, -1, 1]),
        .softmax(classWeights: [1, .nan, 1]),
        .softmax(classWeights: [1, .infinity, 1]),
        LossOptions(loss: .hinge, classes: .all),
        LossOptions(loss: .sigmoid, classes: .explicit([1])),
        LossOptions(loss: .hinge, classWeights: [1, 1]),
        LossOptions(loss: .hinge, scoresAre: .probabilities),
    ]

    @Test(arguments: optionErrors) func badOptions(options: LossOptions) throws {
        let shape = options.loss == .softmax ? [1, 3, 4] : [1, 4]
        let error = #expect(throws: LovaszError.self) {
            try engine.loss(
                scores: [Float](repeating: 0.25, count: shape.reduce(1, *)), shape: shape,
                labels: [Int32](repeating: 0, count: 4), options: options)
        }
        guard case .invalidOption = error else {
            Issue.record("\(options): expected invalidOption, got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: [[Float](), [1, 1], [1, 1, 1, 1]]) func classWeightCount(weights: [Float]) throws {
        let error = #expect(throws: LovaszError.self) {
            try engine.loss(
                scores: [Float](repeating: 0.25, count: 12), shape: [1, 3, 4],
                labels: [Int32](repeating: 0, count: 4), options: .softmax(classWeights: weights))
        }
        guard case .invalidShape = error else {
            Issue.record("\(weights): expected invalidShape, got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: [0, 11, 13, 24]) func gradientBufferOfTheWrongSize(size: Int) throws {
        let scores = [Float](repeating: 0.25, count: 12)
        let labels = [Int32](repeating: 1, count: 4)
        var gradient = [Float](repeating: 7, count: size)
        let error = #expect(throws: LovaszError.self) {
            try scores.withUnsafeBufferPointer { scores in
                try labels.withUnsafeBufferPointer { labels in
                    try gradient.withUnsafeMutableBufferPointer { gradient in
                        try engine.compute(
                            scores: scores, shape: [1, 3, 4], labels: labels, options: .softmax(), gradient: gradient)
                    }
                }
            }
        }
        guard case .invalidShape = error else {
            Issue.record("expected invalidShape, got \(String(describing: error))")
            return
        }
        #expect(gradient.allSatisfy { $0 == 7 }, "the buffer is left untouched")
    }

    @Test func descriptionsAreOneLine() {
        let errors: [LovaszError] = [
            .invalidShape("x"), .emptyInput("x"), .nonFiniteScore(position: [0, 1], value: .nan),
            .labelOutOfRange(position: [2], label: "9", classes: 3), .invalidOption("x"),
            .openCLUnavailable("x"),
        ]
        for error in errors {
            #expect(!error.description.isEmpty)
            #expect(!error.description.contains("\n"))
        }
    }
}

/// How errors print positions: `[1, 2, 3]`.
enum LovaszTestFormat {
    static func position(_ position: [Int]) -> String {
        "[" + position.map(String.init).joined(separator: ", ") + "]"
    }
}
