public import CLovaszAPI
import Lovasz

@_cdecl("lovasz_options_init")
public func lovaszOptionsInit(_ options: UnsafeMutablePointer<lovasz_options>?) {
    options?.pointee = .defaults
}

extension lovasz_options {
    /// Logits, present classes, no weights, the loss's per-image default, no ignore index.
    static var defaults: lovasz_options {
        lovasz_options(
            scores_are: LOVASZ_SCORES_LOGITS, classes: LOVASZ_CLASSES_PRESENT,
            class_list: nil, class_count: 0, class_weight_count: 0, class_weights: nil,
            per_image: LOVASZ_PER_IMAGE_DEFAULT, has_ignore_index: 0, ignore_index: 0)
    }

    /// These options as the engine's, for `loss`; the engine validates them against the shape.
    ///
    /// - Throws: ``CallFailure`` (bad input) for unknown enum values, negative counts and null
    ///   arrays with a nonzero count.
    func lossOptions(for loss: LovaszLoss) throws(CallFailure) -> LossOptions {
        let scores: ScoreInterpretation
        switch scores_are {
        case LOVASZ_SCORES_LOGITS: scores = .logits
        case LOVASZ_SCORES_PROBABILITIES: scores = .probabilities
        default: throw .badInput("unknown scores_are \(scores_are); expected 0 (logits) or 1 (probabilities)")
        }
        let selection: ClassSelection
        switch self.classes {
        case LOVASZ_CLASSES_PRESENT: selection = .present
        case LOVASZ_CLASSES_ALL: selection = .all
        case LOVASZ_CLASSES_LIST:
            selection = .explicit(try Self.array(class_list, count: class_count, name: "class_list").map(Int.init))
        default: throw .badInput("unknown classes \(self.classes); expected 0 (present), 1 (all) or 2 (list)")
        }
        let weights = class_weight_count == 0
            ? nil : try Self.array(class_weights, count: class_weight_count, name: "class_weights")
        let perImage: Bool?
        switch per_image {
        case LOVASZ_PER_IMAGE_DEFAULT: perImage = nil
        case 0: perImage = false
        case 1: perImage = true
        default: throw .badInput("per_image is \(per_image); expected -1 (the loss's default), 0 or 1")
        }
        return LossOptions(
            loss: loss, scoresAre: scores, classes: selection, classWeights: weights,
            perImage: perImage, ignoreIndex: has_ignore_index != 0 ? Int(ignore_index) : nil)
    }

    /// Copies `count` elements of a caller's array, checking the pointer and the count.
    private static func array<Element>(
        _ pointer: UnsafePointer<Element>?, count: Int32, name: String
    ) throws(CallFailure) -> [Element] {
        guard count >= 0 else { throw .badInput("\(name) has a negative count (\(count))") }
        guard count == 0 || pointer != nil else { throw .badInput("\(name) is NULL with a count of \(count)") }
        guard let pointer else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(count)))
    }
}
