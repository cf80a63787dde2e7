/// An error thrown by the IoU metrics for input they cannot count.
///
/// Every case renders as one line naming the problem (``description``).
public enum MetricsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The number of classes is not positive.
    case invalidClassCount(Int)
    /// The predictions and the labels differ in length.
    case countMismatch(predictions: Int, labels: Int)
    /// A label is outside `0..<classes` and is not the ignore index; `index` is its flat
    /// position in the labels, `label` its value in decimal (any integer type, in full).
    case labelOutOfRange(index: Int, label: String, classes: Int)
    /// A prediction (at a pixel that is not ignored) is outside `0..<classes`; `index` is its
    /// flat position in the predictions, `prediction` its value in decimal.
    case predictionOutOfRange(index: Int, prediction: String, classes: Int)
    /// Two accumulators that count different things cannot be merged; the difference is given.
    case incompatible(String)
    /// A shape or an image count that the arrays do not fit.
    case invalidShape(String)
    /// A score is NaN or infinite; `position` is its multi-index in the scores.
    case nonFiniteScore(position: [Int], value: Float)

    public var description: String {
        switch self {
        case .invalidClassCount(let count):
            return "invalid class count \(count): at least one class is needed"
        case .countMismatch(let predictions, let labels):
            return "\(predictions) predictions for \(labels) labels"
        case .labelOutOfRange(let index, let label, let classes):
            return "label \(label) at index \(index) is outside 0..<\(classes) and is not the ignore index"
        case .predictionOutOfRange(let index, let prediction, let classes):
            return "prediction \(prediction) at index \(index) is outside 0..<\(classes)"
        case .incompatible(let difference):
            return "cannot merge metrics: \(difference)"
        case .invalidShape(let message):
            return "invalid shape: \(message)"
        case .nonFiniteScore(let position, let value):
            return "non-finite score \(value) at position [\(position.map(String.init).joined(separator: ", "))]"
        }
    }
}
