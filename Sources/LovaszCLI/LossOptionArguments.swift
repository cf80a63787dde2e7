import ArgumentParser
import Lovasz

/// The loss options shared by `lovasz loss` and `lovasz bench --scores S.npy --labels Y.npy`.
///
/// Every option is optional so that `lovasz bench` can tell whether any was given; the
/// defaults are the library's (``LossOptions/init(loss:scoresAre:classes:classWeights:perImage:ignoreIndex:)``).
struct LossOptionArguments: ParsableArguments {
    @Option(help: "The loss. (default: softmax)")
    var loss: LovaszLoss?

    @Option(
        help: "Whether the scores are logits or probabilities (the hinge takes logits); the gradient is with respect to them. (default: logits)")
    var scoresAre: ScoreInterpretation?

    @Option(
        help: ArgumentHelp(
            "The classes counted by the softmax loss: present (those with a pixel in the group), all, or a list such as 0,3,7 (always counted). (default: present)",
            valueName: "present|all|0,3,7"),
        transform: LossOptionArguments.parseClasses)
    var classes: ClassSelection?

    @Flag(
        inversion: .prefixedNo,
        help: "One group per image, the loss being the mean over images (default: off for softmax, on for hinge and sigmoid).")
    var perImage: Bool?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Pixels with this label are left out: no loss, zero gradient (may be negative).", valueName: "N"))
    var ignoreIndex: Int?

    @Option(help: ArgumentHelp("Softmax only: a 1-d .npy of C non-negative class weights (a weighted mean).", valueName: "W.npy"))
    var classWeights: String?

    /// Whether any option was given.
    var isEmpty: Bool {
        loss == nil && scoresAre == nil && classes == nil && perImage == nil && ignoreIndex == nil && classWeights == nil
    }

    /// The loss, softmax unless given.
    var chosenLoss: LovaszLoss { loss ?? .softmax }

    /// The options given, with the loss's defaults for the rest.
    ///
    /// - Parameter classWeights: the weights read from ``classWeights`` (the file is read by
    ///   ``LossInputs``).
    func options(classWeights: [Float]?) -> LossOptions {
        LossOptions(
            loss: chosenLoss, scoresAre: scoresAre ?? .logits, classes: classes ?? .present,
            classWeights: classWeights, perImage: perImage, ignoreIndex: ignoreIndex)
    }

    /// Parses `--classes`: `present`, `all` or a comma-separated list of class indices.
    static func parseClasses(_ text: String) throws -> ClassSelection {
        let trimmed = text.filter { !$0.isWhitespace }
        switch trimmed.lowercased() {
        case "present": return .present
        case "all": return .all
        default: break
        }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
        let classes = parts.compactMap { Int($0) }
        guard !trimmed.isEmpty, classes.count == parts.count, classes.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("expected present, all, or class indices separated by commas such as 0,3,7")
        }
        return .explicit(classes)
    }
}
