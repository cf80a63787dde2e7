/// The kind of network output a workload's scores imitate.
package enum BenchDataModel: String, Sendable, CaseIterable, Hashable {
    /// Logits drawn from N(0, 1) and labels uniform over the classes: what benchmarks usually
    /// time, an untrained network.
    case random
    /// As `random`, plus a margin of ``trainedMargin`` on the true class (the binary losses:
    /// `+margin` for label 1, `−margin` for label 0): a confident network, where most errors
    /// are small. A sort that skips the zero-gradient tail gains less here.
    case trained

    /// The logit margin of the true class in `trained` data.
    package static let trainedMargin: Float = 4

    /// One line describing the model.
    package var summary: String {
        switch self {
        case .random: return "logits ~ N(0,1), labels uniform"
        case .trained: return "logits ~ N(0,1) + 4 on the true class, labels uniform"
        }
    }
}
