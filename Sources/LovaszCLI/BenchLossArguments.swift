import ArgumentParser
import Lovasz

/// The loss options of `lovasz bench --scores S.npy --labels Y.npy`, spelled as in `lovasz loss`.
struct BenchLossArguments: ParsableArguments {
    /// The losses, as spelled on the command line.
    enum LossName: String, ExpressibleByArgument, CaseIterable {
        case softmax, hinge, sigmoid
    }

    /// How the scores are read, as spelled on the command line.
    enum ScoresName: String, ExpressibleByArgument, CaseIterable {
        case logits, probabilities
    }

    @Option(help: "With --scores: the loss. (default: softmax)")
    var loss: LossName?

    @Option(help: "With --scores: whether the scores are logits or probabilities. (default: logits)")
    var scoresAre: ScoresName?

    @Option(
        help: ArgumentHelp(
            "With --scores: the classes counted by softmax: present, all, or a list such as 0,3,7. (default: present)",
            valueName: "present|all|0,3,7"),
        transform: BenchLossArguments.parseClasses)
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
        let lossKind: LovaszLoss
        switch loss ?? .softmax {
        case .softmax: lossKind = .softmax
        case .hinge: lossKind = .hinge
        case .sigmoid: lossKind = .sigmoid
        }
        return LossOptions(
            loss: lossKind, scoresAre: scoresAre == .probabilities ? .probabilities : .logits,
            classes: classes ?? .present, perImage: perImage, ignoreIndex: ignoreIndex)
    }

    /// Parses `--classes`: `present`, `all`, or class indices separated by commas.
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
