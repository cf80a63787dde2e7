/// An error thrown by the Lovász losses for input they cannot compute a number for.
///
/// Every case renders as one line naming the problem (``description``), suitable for a
/// command-line message.
public enum LovaszError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The shape of the scores, labels, weights or gradient buffer is not usable.
    case invalidShape(String)
    /// The batch, a dimension or the class axis is empty.
    case emptyInput(String)
    /// A score is NaN or infinite; `position` is its multi-index in the scores.
    case nonFiniteScore(position: [Int], value: Float)
    /// A label is outside `0..<classes` and is not the ignore index; `label` is its value in
    /// decimal (any integer type's full range).
    case labelOutOfRange(position: [Int], label: String, classes: Int)
    /// An option is not valid for this loss or these scores.
    case invalidOption(String)
    /// OpenCL was asked for explicitly and cannot be used; the reason is given.
    case openCLUnavailable(String)
    /// An OpenCL call failed while computing.
    case openCL(OpenCLError)

    public var description: String {
        switch self {
        case .invalidShape(let message): return "invalid shape: \(message)"
        case .emptyInput(let message): return "empty input: \(message)"
        case .nonFiniteScore(let position, let value):
            return "non-finite score \(value) at position \(position.bracketed)"
        case .labelOutOfRange(let position, let label, let classes):
            let allowed = classes == 2 ? "0 or 1" : "0..<\(classes)"
            return "label \(label) at position \(position.bracketed) is outside \(allowed) and is not the ignore index"
        case .invalidOption(let message): return "invalid option: \(message)"
        case .openCLUnavailable(let reason): return "OpenCL unavailable: \(reason)"
        case .openCL(let error): return error.description
        }
    }
}
