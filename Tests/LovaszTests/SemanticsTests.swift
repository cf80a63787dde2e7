import Foundation
import Lovasz
import LovaszTestSupport
import Testing

/// The semantics of docs/DESIGN.md §3 that users rely on, each checked directly.
@Suite struct SemanticsTests {
    let engine: LovaszEngine

    init() throws {
        engine = try LovaszEngine(backend: .cpu)
    }

    /// A per-image batch whose middle image is all ignored: that image counts as zero in the
    /// mean over images and gets zero gradient; the others are as if computed alone, over 3.
    @Test(arguments: LovaszLoss.allCases) func allIgnoredImageCountsAsZero(loss: LovaszLoss) throws {
        let recipe = RandomRecipe(
            "\(loss) 3 images, image 1 ignored", loss: loss, batch: 3, classes: 4, spatial: [4, 5],
            ignoreIndex: 255, ignoredFraction: 0.1, allIgnoredImages: [1], seed: 501)
        let problem = recipe.make()
        let options = problem.options(perImage: true)
        let (result, gradient) = try engine.lossAndGradient(
            scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)

        let perImageScores = problem.scores.count / 3
        var sum = 0.0
        for b in [0, 2] {
            let scores = Array(problem.scores[b * perImageScores ..< (b + 1) * perImageScores])
            let labels = Array(problem.labels[b * problem.pixelsPerImage ..< (b + 1) * problem.pixelsPerImage])
            let alone = try engine.lossAndGradient(
                scores: scores, shape: [1] + problem.shape.dropFirst(), labels: labels, options: options)
            sum += alone.result.loss
            let part = Array(gradient[b * perImageScores ..< (b + 1) * perImageScores])
            expectGradient(part, alone.gradient.map { Double($0) / 3 }, tolerance: 1e-7, "image \(b)")
        }
        expectLoss(result.loss, sum / 3)
        #expect(gradient[perImageScores ..< 2 * perImageScores].allSatisfy { $0 == 0 })

        let naive = NaiveLovasz.loss(
            scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
        expectLoss(result.loss, naive.loss)
    }

    /// One valid pixel of class y with probabilities f: the present class has one foreground
    /// pixel, g = 1, loss 1 - f_y. With every class counted, each other class has one
    /// background pixel, g = 1, loss f_c; the mean is (1 - f_y + Σ_{c≠y} f_c)/C = 2(1 - f_y)/C.
    @Test func onePixelGroup() throws {
        let logits: [Float] = [0.3, -1.2, 2.0, 0.7]
        let y = 2
        let e = logits.map { exp(Double($0)) }
        let f = e.map { $0 / e.reduce(0, +) }
        let present = try engine.lossAndGradient(
            scores: logits, shape: [1, 4, 1], labels: [Int32(y)], options: .softmax())
        expectLoss(present.result.loss, 1 - f[y])
        // ∂(1 - f_y)/∂F_k = -f_y([y = k] - f_k).
        expectGradient(present.gradient, (0..<4).map { k in -f[y] * ((k == y ? 1 : 0) - f[k]) })
        let all = try engine.loss(scores: logits, shape: [1, 4, 1], labels: [Int32(y)], options: .softmax(classes: .all))
        expectLoss(all.loss, 2 * (1 - f[y]) / 4)

        // A hinge group whose only valid pixel is a foreground pixel with logit 0.25: loss 0.75.
        let hinge = try engine.lossAndGradient(
            scores: [0.25, 3, -2], shape: [1, 3], labels: [1, 9, 9] as [Int8],
            options: .hinge(ignoreIndex: 9))
        expectLoss(hinge.result.loss, 0.75)
        #expect(hinge.gradient == [-1, 0, 0])
    }

    /// No class counted: every pixel ignored, or every counted class weighted zero.
    @Test(arguments: [
        LossOptions.softmax(ignoreIndex: 7), .softmax(classes: .all, ignoreIndex: 7),
        .softmax(classes: .explicit([1]), perImage: true, ignoreIndex: 7),
        .hinge(ignoreIndex: 7), .sigmoid(perImage: false, ignoreIndex: 7),
    ]) func nothingCountedGivesZero(options: LossOptions) throws {
        let shape = options.loss == .softmax ? [2, 3, 5] : [2, 5]
        let scores = (0..<shape.reduce(1, *)).map { Float($0 % 7) - 3 }
        let labels = [Int16](repeating: 7, count: 10)
        let (result, gradient) = try engine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        #expect(result.loss == 0)
        #expect(result.segments == 0)
        #expect(gradient.allSatisfy { $0 == 0 })
    }

    @Test func zeroWeightsGiveZero() throws {
        // Present classes 0 and 2 are weighted zero; class 1 is absent.
        let labels: [Int32] = [0, 2, 2, 0, 0]
        let scores = (0..<15).map { Float($0 % 4) * 0.5 - 1 }
        let (result, gradient) = try engine.lossAndGradient(
            scores: scores, shape: [1, 3, 5], labels: labels, options: .softmax(classWeights: [0, 5, 0]))
        #expect(result.loss == 0)
        #expect(gradient.allSatisfy { $0 == 0 })
    }

    /// An explicitly listed class absent from the group is counted: every pixel is background,
    /// g = (1, 0, ...) in the sorted order, so its loss is its largest error, the largest f(c).
    @Test func explicitAbsentClassCountsItsLargestError() throws {
        let probabilities: [Float] = [
            0.5, 0.2, 0.1, 0.6,  // class 0
            0.3, 0.3, 0.2, 0.1,  // class 1
            0.2, 0.5, 0.7, 0.3,  // class 2: absent; largest f at pixel 2
        ]
        let labels: [UInt16] = [0, 1, 0, 1]
        let options = LossOptions.softmax(classes: .explicit([2]), scoresAre: .probabilities)
        let (result, gradient) = try engine.lossAndGradient(
            scores: probabilities, shape: [1, 3, 4], labels: labels, options: options)
        expectLoss(result.loss, 0.7)
        #expect(gradient == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
        #expect(result.classesCounted == 1)
    }

    /// Ignored pixels get exactly zero gradient in every channel, for every recipe and option.
    @Test(arguments: RandomProblems.all.filter { $0.ignoreIndex != nil })
    func ignoredPixelsGetZeroGradient(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        for options in problem.optionVariants {
            let (_, gradient) = try engine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            for (pixel, label) in problem.labels.enumerated() where Int(label) == recipe.ignoreIndex {
                let b = pixel / problem.pixelsPerImage, s = pixel % problem.pixelsPerImage
                for c in 0..<problem.channels {
                    #expect(gradient[(b * problem.channels + c) * problem.pixelsPerImage + s] == 0, "\(options)")
                }
            }
        }
    }

    /// Class weights give the weighted mean of the class losses, each computed on its own.
    @Test func weightedMean() throws {
        let problem = RandomRecipe(
            "softmax 2x4x5x6", loss: .softmax, batch: 2, classes: 4, spatial: [5, 6], seed: 502).make()
        let weights: [Float] = [2, 0.5, 0, 1.5]
        var classLoss: [Double] = []
        for c in 0..<4 {
            let r = try engine.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels,
                options: .softmax(classes: .explicit([c])))
            classLoss.append(r.loss)
        }
        for classes in [ClassSelection.all, .explicit([3, 0, 1])] {
            let chosen = classes == .all ? [0, 1, 2, 3] : [3, 0, 1]
            let expected = chosen.map { Double(weights[$0]) * classLoss[$0] }.reduce(0, +)
                / chosen.map { Double(weights[$0]) }.reduce(0, +)
            let weighted = try engine.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels,
                options: .softmax(classes: classes, classWeights: weights))
            expectLoss(weighted.loss, expected, "\(classes)")
            // Scaling every weight changes nothing.
            let scaled = try engine.loss(
                scores: problem.scores, shape: problem.shape, labels: problem.labels,
                options: .softmax(classes: classes, classWeights: weights.map { $0 * 8 }))
            expectLoss(scaled.loss, weighted.loss, "\(classes) scaled")
        }
    }

    /// Per image, the loss is the mean of the images' losses computed alone.
    @Test(arguments: LovaszLoss.allCases) func perImageIsTheMeanOverImages(loss: LovaszLoss) throws {
        let problem = RandomRecipe("\(loss) 3x3x4x3", loss: loss, batch: 3, classes: 3, spatial: [4, 3], seed: 503).make()
        let options = problem.options(perImage: true)
        let whole = try engine.loss(scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
        let scoresPerImage = problem.scores.count / 3
        var sum = 0.0
        for b in 0..<3 {
            sum += try engine.loss(
                scores: Array(problem.scores[b * scoresPerImage ..< (b + 1) * scoresPerImage]),
                shape: [1] + problem.shape.dropFirst(),
                labels: Array(problem.labels[b * 12 ..< (b + 1) * 12]), options: options).loss
        }
        expectLoss(whole.loss, sum / 3)
    }

    /// Every integer label type gives the same numbers, bit for bit.
    @Test(arguments: ["Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Int", "UInt"])
    func anyIntegerLabelType(type: String) throws {
        let problem = RandomRecipe(
            "softmax 2x5x4x3", loss: .softmax, batch: 2, classes: 5, spatial: [4, 3], ignoreIndex: 100,
            ignoredFraction: 0.2, seed: 504).make()
        let options = problem.options(classes: .all, perImage: true)
        func run<L: FixedWidthInteger>(_: L.Type) throws -> (LossResult, [Float]) {
            try engine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels(as: L.self), options: options)
        }
        let reference = try run(Int32.self)
        let other: (LossResult, [Float])
        switch type {
        case "Int8": other = try run(Int8.self)
        case "UInt8": other = try run(UInt8.self)
        case "Int16": other = try run(Int16.self)
        case "UInt16": other = try run(UInt16.self)
        case "Int32": other = try run(Int32.self)
        case "UInt32": other = try run(UInt32.self)
        case "Int64": other = try run(Int64.self)
        case "UInt64": other = try run(UInt64.self)
        case "Int": other = try run(Int.self)
        default: other = try run(UInt.self)
        }
        #expect(other.0 == reference.0)
        #expect(other.1 == reference.1)
    }

    /// The zero-copy entry point writes the same gradient as the array one, whatever the
    /// gradient buffer held before (NaN here), including where nothing is counted.
    @Test(arguments: RandomProblems.all.filter { !$0.allIgnoredImages.isEmpty || $0.ignoreIndex != nil })
    func zeroCopyOverwritesTheWholeBuffer(recipe: RandomRecipe) throws {
        let problem = recipe.make()
        for options in problem.optionVariants {
            let (expected, expectedGradient) = try engine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            var gradient = [Float](repeating: .nan, count: problem.scores.count)
            let result = try problem.scores.withUnsafeBufferPointer { scores in
                try problem.labels.withUnsafeBufferPointer { labels in
                    try gradient.withUnsafeMutableBufferPointer { gradient in
                        try engine.compute(
                            scores: scores, shape: problem.shape, labels: labels, options: options, gradient: gradient)
                    }
                }
            }
            #expect(result == expected, "\(options)")
            #expect(gradient == expectedGradient, "\(options)")
        }
    }
}
