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
    /// A score given as a probability (`scoresAre: .probabilities`) is outside `[0, 1]`;
    /// `position` is the multi-index of the first one in C order.
    case probabilityOutOfRange(position: [Int], value: Float)
    /// A label is outside `0..<classes` and is not the ignore index; `label` is its value in
    /// decimal (any integer type's full range).
    case labelOutOfRange(position: [Int], label: String, classes: Int)
    /// An option is not valid for this loss or these scores.
    case invalidOption(String)
    /// OpenCL was asked for explicitly and cannot be used; the reason is given.
    case openCLUnavailable(String)
    /// An OpenCL call failed while computing.
    case openCL(OpenCLError)
    /// A buffer of `bytes` bytes could not be allocated. Nothing was written to the caller's
    /// buffers that matters (the gradient is unspecified) and the engine stays usable.
    case outOfMemory(bytes: Int)

    public var description: String {
        switch self {
        case .invalidShape(let message): return "invalid shape: \(message)"
        case .emptyInput(let message): return "empty input: \(message)"
        case .nonFiniteScore(let position, let value):
            return "non-finite score \(value) at position \(position.bracketed)"
        case .probabilityOutOfRange(let position, let value):
            return "probability \(value) at position \(position.bracketed) is outside [0, 1]"
        case .labelOutOfRange(let position, let label, let classes):
            let allowed = classes == 2 ? "0 or 1" : "0..<\(classes)"
            return "label \(label) at position \(position.bracketed) is outside \(allowed) and is not the ignore index"
        case .invalidOption(let message): return "invalid option: \(message)"
        case .openCLUnavailable(let reason): return "OpenCL unavailable: \(reason)"
        case .openCL(let error): return error.description
        case .outOfMemory(let bytes): return "out of memory: cannot allocate \(Self.formatBytes(bytes))"
        }
    }

    /// `bytes` in bytes and, from 1 KiB, in the largest binary unit (`"4294967296 bytes (4.0 GiB)"`).
    static func formatBytes(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes)
        var unit = -1
        while value >= 1024 && unit + 1 < units.count {
            value /= 1024
            unit += 1
        }
        guard unit >= 0 else { return "\(bytes) bytes" }
        let tenths = (value * 10).rounded()
        return "\(bytes) bytes (\(Int(tenths) / 10).\(Int(tenths) % 10) \(units[unit]))"
    }
}
