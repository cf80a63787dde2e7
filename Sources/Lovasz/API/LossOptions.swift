/// Which of the three Lovász losses of Berman et al. (CVPR 2018) to compute.
public enum LovaszLoss: String, Sendable, CaseIterable, Hashable {
    /// The multi-class Lovász-Softmax loss over scores `[B, C, ...]`.
    case softmax
    /// The binary Lovász hinge over logits `[B, ...]` and labels in {0, 1}.
    case hinge
    /// The binary Lovász-Sigmoid loss over scores `[B, ...]` and labels in {0, 1}.
    case sigmoid

    /// Whether the loss takes one score per pixel (hinge, sigmoid) rather than one per class.
    public var isBinary: Bool { self != .softmax }
}

/// How the scores passed to a loss are to be read.
public enum ScoreInterpretation: String, Sendable, CaseIterable, Hashable {
    /// Unnormalised scores; the loss applies the softmax (or sigmoid) itself and the
    /// gradient is taken with respect to the logits.
    case logits
    /// Scores that already are probabilities; the gradient is taken with respect to them.
    case probabilities
}

/// Which classes enter the mean of the Lovász-Softmax loss.
public enum ClassSelection: Sendable, Hashable {
    /// Classes with at least one non-ignored pixel in the group (the default).
    case present
    /// Every class `0..<C`, present or not; an absent class contributes its largest error.
    case all
    /// These classes, always counted, even when absent from a group.
    case explicit([Int])
}

/// Every option of a Lovász loss computation (docs/DESIGN.md §3).
///
/// Use ``softmax(classes:classWeights:perImage:ignoreIndex:scoresAre:)``,
/// ``hinge(perImage:ignoreIndex:)`` or ``sigmoid(perImage:ignoreIndex:scoresAre:)`` to get
/// the defaults of the reference implementation for each loss.
public struct LossOptions: Sendable, Hashable {
    /// The loss to compute.
    public var loss: LovaszLoss
    /// How to read the scores. The hinge always takes logits.
    public var scoresAre: ScoreInterpretation
    /// Which classes are counted (Lovász-Softmax only; the binary losses always count
    /// their single foreground class, as the reference hinge does).
    public var classes: ClassSelection
    /// Optional non-negative weight per class (length `C`): the loss is then the weighted
    /// mean of the counted class losses. Lovász-Softmax only.
    public var classWeights: [Float]?
    /// `false`: one group per batch. `true`: one group per image, and the loss is the mean
    /// over images; an image whose pixels are all ignored counts as a zero loss.
    public var perImage: Bool
    /// Pixels with this label are removed from every group: no loss, zero gradient.
    public var ignoreIndex: Int?

    /// Options with every field given explicitly.
    public init(
        loss: LovaszLoss,
        scoresAre: ScoreInterpretation = .logits,
        classes: ClassSelection = .present,
        classWeights: [Float]? = nil,
        perImage: Bool? = nil,
        ignoreIndex: Int? = nil
    ) {
        self.loss = loss
        self.scoresAre = scoresAre
        self.classes = classes
        self.classWeights = classWeights
        self.perImage = perImage ?? (loss != .softmax)
        self.ignoreIndex = ignoreIndex
    }

    /// Lovász-Softmax options; by default present classes, one group per batch, from logits.
    public static func softmax(
        classes: ClassSelection = .present,
        classWeights: [Float]? = nil,
        perImage: Bool = false,
        ignoreIndex: Int? = nil,
        scoresAre: ScoreInterpretation = .logits
    ) -> LossOptions {
        LossOptions(
            loss: .softmax, scoresAre: scoresAre, classes: classes,
            classWeights: classWeights, perImage: perImage, ignoreIndex: ignoreIndex)
    }

    /// Lovász hinge options; by default one group per image, as in the reference.
    public static func hinge(perImage: Bool = true, ignoreIndex: Int? = nil) -> LossOptions {
        LossOptions(loss: .hinge, perImage: perImage, ignoreIndex: ignoreIndex)
    }

    /// Lovász-Sigmoid options; by default one group per image, from logits.
    public static func sigmoid(
        perImage: Bool = true,
        ignoreIndex: Int? = nil,
        scoresAre: ScoreInterpretation = .logits
    ) -> LossOptions {
        LossOptions(loss: .sigmoid, scoresAre: scoresAre, perImage: perImage, ignoreIndex: ignoreIndex)
    }
}
