import ArgumentParser
import Lovasz

/// The loss options of `lovasz bench --scores S.npy --labels Y.npy`, spelled as in `lovasz loss`.
struct BenchLossArguments: ParsableArguments {
    @Option(help: "With --scores: the loss. (default: softmax)")
    var loss: LossCommand.LossArgument?

    @Option(help: "With --scores: whether the scores are logits or probabilities. (default: logits)")
    var scoresAre: LossCommand.ScoresArgument?

    @Option(
        help: ArgumentHelp(
            "With --scores: the classes counted by softmax: present, all, or a list such as 0,3,7. (default: present)",
            valueName: "present|all|0,3,7"),
        transform: LossCommand.parseClasses)
    var classes: ClassSelection?

    @Flag(
        inversion: .prefixedNo,
        help: "With --scores: one group per image (default: off for softmax, on for hinge and sigmoid).")
    var perImage: Bool?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --scores: pixels with this label are left out (may be negative).", valueName: "N"))
    var ignoreIndex: Int?

    @Option(help: ArgumentHelp("With --scores: a 1-d .npy of C class weights (softmax).", valueName: "W.npy"))
    var classWeights: String?

    /// Whether any option was given.
    var isEmpty: Bool {
        loss == nil && scoresAre == nil && classes == nil && perImage == nil && ignoreIndex == nil && classWeights == nil
    }

    /// The options given, with the loss's defaults for the rest (class weights are read later).
    var options: LossOptions {
        LossOptions(
            loss: (loss ?? .softmax).loss, scoresAre: (scoresAre ?? .logits).interpretation,
            classes: classes ?? .present, perImage: perImage, ignoreIndex: ignoreIndex)
    }
}
