/// The value of a Lovász loss and how it was computed.
public struct LossResult: Sendable, Hashable {
    /// The loss: the (weighted) mean over counted classes, and over images when per image.
    public var loss: Double
    /// The number of distinct classes counted in at least one group.
    public var classesCounted: Int
    /// The number of (group, class) segments that were sorted.
    public var segments: Int
    /// The number of errors that were sorted: `Σ` over segments of the group's valid
    /// (non-ignored) pixels. The size of the work, whatever the backend.
    public var segmentElements: Int
    /// The backend that computed it.
    public var backend: Backend
    /// The device that computed it (`"CPU (n threads)"` for the CPU path).
    public var device: String

    /// A result with every field given.
    ///
    /// - Parameters:
    ///   - segmentElements: `Σ` over segments of their lengths (≥ 0).
    public init(
        loss: Double, classesCounted: Int, segments: Int, segmentElements: Int = 0, backend: Backend, device: String
    ) {
        self.loss = loss
        self.classesCounted = classesCounted
        self.segments = segments
        self.segmentElements = segmentElements
        self.backend = backend
        self.device = device
    }
}

extension LossResult {
    /// The result of a planned problem: its counts come from the plan, whatever the backend.
    init(_ plan: SegmentPlan, loss: Double, backend: Backend, device: String) {
        self.init(
            loss: loss, classesCounted: plan.classesCounted, segments: plan.segmentCount,
            segmentElements: plan.segmentElements,
            backend: backend, device: device)
    }
}
