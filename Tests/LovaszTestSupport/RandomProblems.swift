public import Lovasz

/// How to draw one random loss problem: its shape and the awkward cases it must contain.
///
/// Everything is drawn from ``SplitMix64`` seeded with ``seed``, so a recipe always gives the
/// same problem. Logits are uniform in `[-logitScale, logitScale)`; probabilities are drawn
/// positive and normalised (softmax) or uniform in `(0.001, 0.999)` (sigmoid).
public struct RandomRecipe: Sendable, Hashable, CustomStringConvertible {
    /// A short name, shown in test output.
    public var name: String
    public var loss: LovaszLoss
    /// Images `B` (at least 1).
    public var batch: Int
    /// Classes `C` of the softmax (at least 1); the binary losses have one score channel.
    public var classes: Int
    /// The spatial dimensions after `[B, C]` (or after `[B]` for the binary losses); may be empty.
    public var spatial: [Int]
    /// Binary losses only: shape the scores `[B, 1, ...]` rather than `[B, ...]`.
    public var binaryClassAxis: Bool
    public var scoresAre: ScoreInterpretation
    /// The label of ignored pixels; required when any pixel is ignored.
    public var ignoreIndex: Int?
    /// The probability that a pixel is ignored.
    public var ignoredFraction: Double
    /// Label values that never occur (classes, or 0/1 for the binary losses).
    public var absentClasses: [Int]
    /// Images whose pixels are all ignored.
    public var allIgnoredImages: [Int]
    /// Images with exactly one non-ignored pixel.
    public var onePixelImages: [Int]
    /// The probability that a pixel repeats the score vector of an earlier pixel of the batch
    /// (and, half of the time, its label), so that errors tie exactly. For the hinge, half
    /// of the ties are mirrored instead: negated logit and flipped label, the same error.
    public var tiedFraction: Double
    public var logitScale: Float
    public var seed: UInt64

    public init(
        _ name: String, loss: LovaszLoss, batch: Int, classes: Int = 1, spatial: [Int],
        binaryClassAxis: Bool = false, scoresAre: ScoreInterpretation = .logits,
        ignoreIndex: Int? = nil, ignoredFraction: Double = 0, absentClasses: [Int] = [],
        allIgnoredImages: [Int] = [], onePixelImages: [Int] = [], tiedFraction: Double = 0,
        logitScale: Float = 3, seed: UInt64
    ) {
        self.name = name
        self.loss = loss
        self.batch = batch
        self.classes = classes
        self.spatial = spatial
        self.binaryClassAxis = binaryClassAxis
        self.scoresAre = scoresAre
        self.ignoreIndex = ignoreIndex
        self.ignoredFraction = ignoredFraction
        self.absentClasses = absentClasses
        self.allIgnoredImages = allIgnoredImages
        self.onePixelImages = onePixelImages
        self.tiedFraction = tiedFraction
        self.logitScale = logitScale
        self.seed = seed
    }

    public var description: String { name }

    /// Draws the problem.
    public func make() -> RandomProblem {
        let softmax = loss == .softmax
        let channels = softmax ? classes : 1
        let pixelsPerImage = spatial.reduce(1, *)
        let pixels = batch * pixelsPerImage
        let shape = softmax ? [batch, classes] + spatial : [batch] + (binaryClassAxis ? [1] : []) + spatial
        let labelValues = (0..<(softmax ? classes : 2)).filter { !absentClasses.contains($0) }
        precondition(!labelValues.isEmpty, "every label value is absent")
        precondition(
            ignoreIndex != nil || (ignoredFraction == 0 && allIgnoredImages.isEmpty && onePixelImages.isEmpty),
            "ignored pixels need an ignore index")
        var random = SplitMix64(seed: seed)

        // Per pixel: a score vector (one per channel) and a label.
        var vectors: [[Float]] = (0..<pixels).map { _ in scoreVector(channels: channels, random: &random) }
        var labels: [Int32] = (0..<pixels).map { _ in
            if let ignoreIndex, random.chance(ignoredFraction) { return Int32(ignoreIndex) }
            return Int32(random.element(of: labelValues))
        }
        if tiedFraction > 0 {
            for i in 1..<max(pixels, 1) where random.chance(tiedFraction) {
                let j = random.below(i)
                let mirrored = loss == .hinge && random.chance(0.5) && (labels[j] == 0 || labels[j] == 1)
                    && labelValues.count == 2
                if mirrored {
                    vectors[i] = vectors[j].map { -$0 }
                    labels[i] = 1 - labels[j]
                } else {
                    vectors[i] = vectors[j]
                    if random.chance(0.5) { labels[i] = labels[j] }
                }
            }
        }
        for b in allIgnoredImages {
            for s in 0..<pixelsPerImage { labels[b * pixelsPerImage + s] = Int32(ignoreIndex!) }
        }
        for b in onePixelImages {
            let kept = random.below(pixelsPerImage)
            for s in 0..<pixelsPerImage where s != kept { labels[b * pixelsPerImage + s] = Int32(ignoreIndex!) }
            if Int(labels[b * pixelsPerImage + kept]) == ignoreIndex {
                labels[b * pixelsPerImage + kept] = Int32(random.element(of: labelValues))
            }
        }

        var scores = [Float](repeating: 0, count: pixels * channels)
        for (pixel, vector) in vectors.enumerated() {
            let b = pixel / pixelsPerImage, s = pixel % pixelsPerImage
            for c in 0..<channels { scores[(b * channels + c) * pixelsPerImage + s] = vector[c] }
        }
        return RandomProblem(
            recipe: self, shape: shape, scores: scores, labels: labels,
            channels: channels, pixelsPerImage: pixelsPerImage)
    }

    private func scoreVector(channels: Int, random: inout SplitMix64) -> [Float] {
        switch (scoresAre, loss) {
        case (.logits, _):
            return (0..<channels).map { _ in random.uniform(-logitScale, logitScale) }
        case (.probabilities, .softmax):
            let raw = (0..<channels).map { _ in random.uniform(0.05, 1) }
            let sum = raw.reduce(0, +)
            return raw.map { $0 / sum }
        case (.probabilities, _):
            return [random.uniform(0.001, 0.999)]
        }
    }
}

/// A random loss problem drawn from a ``RandomRecipe``.
public struct RandomProblem: Sendable, CustomStringConvertible {
    public let recipe: RandomRecipe
    /// The scores' shape: `[B, C, ...]`, or `[B, ...]` / `[B, 1, ...]` for the binary losses.
    public let shape: [Int]
    /// C-order float scores.
    public let scores: [Float]
    /// One label per pixel (`B · Π spatial`), C order.
    public let labels: [Int32]
    /// Score channels: `C` for the softmax, 1 for the binary losses.
    public let channels: Int
    /// Pixels per image `S`.
    public let pixelsPerImage: Int

    public var description: String { recipe.name }
    public var batch: Int { shape[0] }
    /// The number of label values: `C`, or 2 for the binary losses.
    public var labelClasses: Int { recipe.loss == .softmax ? channels : 2 }

    /// The labels converted to another integer type (every value must fit).
    public func labels<Label: FixedWidthInteger>(as type: Label.Type) -> [Label] {
        labels.map { Label($0) }
    }

    /// The problem's loss, score kind and ignore index with the given options.
    public func options(
        classes: ClassSelection = .present, classWeights: [Float]? = nil, perImage: Bool
    ) -> LossOptions {
        LossOptions(
            loss: recipe.loss, scoresAre: recipe.scoresAre, classes: classes,
            classWeights: classWeights, perImage: perImage, ignoreIndex: recipe.ignoreIndex)
    }

    /// Every combination of the options that apply to the loss: for the softmax, classes
    /// `present`/`all`/an explicit list (unsorted, with an absent class when there is one) ×
    /// no weights/weights with one class weighted zero × per batch/per image; for the binary
    /// losses, per batch/per image.
    public var optionVariants: [LossOptions] {
        let perImageChoices = [false, true]
        guard recipe.loss == .softmax else { return perImageChoices.map { options(perImage: $0) } }
        let classCount = channels
        var list = [classCount - 1]
        if classCount > 1 { list.append(0) }
        if let absent = recipe.absentClasses.first, !list.contains(absent) { list.append(absent) }
        var random = SplitMix64(seed: recipe.seed ^ 0x5745_4947_4854)
        var weights = (0..<classCount).map { _ in random.uniform(0.25, 2) }
        if classCount > 2 { weights[1] = 0 }
        var variants: [LossOptions] = []
        for classes in [ClassSelection.present, .all, .explicit(list)] {
            for classWeights in [nil, weights] {
                for perImage in perImageChoices {
                    variants.append(options(classes: classes, classWeights: classWeights, perImage: perImage))
                }
            }
        }
        return variants
    }
}

/// Standard sets of random problems: small, shapes that are not powers of two, and every
/// awkward case of docs/DESIGN.md §6 (ignored pixels, absent classes, one-pixel groups, all-ignored
/// images, ties, one class, many classes, 1-D to 3-D spatial shapes).
public enum RandomProblems {
    /// The recipes for one loss (softmax: 11; hinge: 8; sigmoid: 9).
    public static func catalog(_ loss: LovaszLoss) -> [RandomRecipe] {
        switch loss {
        case .softmax: return softmax
        case .hinge, .sigmoid: return binary(loss)
        }
    }

    /// Every recipe of the three losses.
    public static var all: [RandomRecipe] { LovaszLoss.allCases.flatMap(catalog) }

    static let softmax: [RandomRecipe] = [
        RandomRecipe("softmax 2x3x5x7", loss: .softmax, batch: 2, classes: 3, spatial: [5, 7], seed: 101),
        RandomRecipe(
            "softmax 3x5x6x9, 20% ignored, class 3 absent", loss: .softmax, batch: 3, classes: 5,
            spatial: [6, 9], ignoreIndex: 255, ignoredFraction: 0.2, absentClasses: [3], seed: 102),
        RandomRecipe(
            "softmax 4x4x4x5, image 1 all ignored, image 2 one pixel", loss: .softmax, batch: 4,
            classes: 4, spatial: [4, 5], ignoreIndex: -1, ignoredFraction: 0.1,
            allIgnoredImages: [1], onePixelImages: [2], seed: 103),
        RandomRecipe("softmax 3x3x1, one pixel per image", loss: .softmax, batch: 3, classes: 3, spatial: [1], seed: 104),
        RandomRecipe("softmax 5x4, no spatial axes", loss: .softmax, batch: 5, classes: 4, spatial: [], seed: 105),
        RandomRecipe(
            "softmax 2x3x7x6, 40% ties", loss: .softmax, batch: 2, classes: 3, spatial: [7, 6],
            ignoreIndex: 3, ignoredFraction: 0.1, tiedFraction: 0.4, seed: 106),
        RandomRecipe("softmax 2x1x4x5, one class", loss: .softmax, batch: 2, classes: 1, spatial: [4, 5], seed: 107),
        RandomRecipe("softmax 2x37x4x5, many classes", loss: .softmax, batch: 2, classes: 37, spatial: [4, 5], seed: 108),
        RandomRecipe(
            "softmax 2x130x4x5, more classes than a one-byte class map holds", loss: .softmax, batch: 2, classes: 130,
            spatial: [4, 5], ignoreIndex: 255, ignoredFraction: 0.1, seed: 112),
        RandomRecipe("softmax 2x3x3x4x5, volume", loss: .softmax, batch: 2, classes: 3, spatial: [3, 4, 5], seed: 109),
        RandomRecipe(
            "softmax 2x4x5x5 probabilities, ignored, ties", loss: .softmax, batch: 2, classes: 4,
            spatial: [5, 5], scoresAre: .probabilities, ignoreIndex: 255, ignoredFraction: 0.15,
            tiedFraction: 0.2, seed: 110),
        RandomRecipe(
            "softmax 2x6x13x17, 5% ignored", loss: .softmax, batch: 2, classes: 6, spatial: [13, 17],
            ignoreIndex: 255, ignoredFraction: 0.05, seed: 111),
    ]

    static func binary(_ loss: LovaszLoss) -> [RandomRecipe] {
        let seed: UInt64 = loss == .hinge ? 200 : 300
        var recipes = [
            RandomRecipe("\(loss) 3x5x7", loss: loss, batch: 3, spatial: [5, 7], seed: seed + 1),
            RandomRecipe("\(loss) 2x1x6x5", loss: loss, batch: 2, spatial: [6, 5], binaryClassAxis: true, seed: seed + 2),
            RandomRecipe(
                "\(loss) 4x6x5, 20% ignored, image 0 all ignored, image 3 one pixel", loss: loss,
                batch: 4, spatial: [6, 5], ignoreIndex: 255, ignoredFraction: 0.2,
                allIgnoredImages: [0], onePixelImages: [3], seed: seed + 3),
            RandomRecipe("\(loss) 2x9x8, 40% ties", loss: loss, batch: 2, spatial: [9, 8], tiedFraction: 0.4, seed: seed + 4),
            RandomRecipe("\(loss) 2x4x5, no foreground", loss: loss, batch: 2, spatial: [4, 5], absentClasses: [1], seed: seed + 5),
            RandomRecipe("\(loss) 2x4x5, all foreground", loss: loss, batch: 2, spatial: [4, 5], absentClasses: [0], seed: seed + 6),
            RandomRecipe("\(loss) 7, one pixel per image", loss: loss, batch: 7, spatial: [], seed: seed + 7),
            RandomRecipe("\(loss) 2x3x4x5, volume", loss: loss, batch: 2, spatial: [3, 4, 5], seed: seed + 8),
        ]
        if loss == .sigmoid {
            recipes.append(RandomRecipe(
                "sigmoid 3x6x7 probabilities, ignored, ties", loss: .sigmoid, batch: 3, spatial: [6, 7],
                scoresAre: .probabilities, ignoreIndex: 2, ignoredFraction: 0.1, tiedFraction: 0.2,
                seed: seed + 9))
        }
        return recipes
    }
}
