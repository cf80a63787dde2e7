/// A validated loss computation: shape, labels, plan and the caller's scores.
///
/// The scores are borrowed for the duration of one call and never stored.
struct LossProblem {
    let options: LossOptions
    let shape: ProblemShape
    let labels: LabelMap
    let plan: SegmentPlan
    let scores: UnsafeBufferPointer<Float>

    /// Validates shapes, options and labels (not the score values: each backend tests those
    /// in its first pass) and plans the segments.
    init<Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Float>,
        shape scoreShape: [Int],
        labels: UnsafeBufferPointer<Label>,
        options: LossOptions
    ) throws(LovaszError) {
        let shape = try ProblemShape(scores: scoreShape, loss: options.loss)
        try Self.checkCounts(scores: scores.count, labels: nil, shape: shape)
        let labelMap = try LabelMap(labels: labels, shape: shape, ignoreIndex: options.ignoreIndex)
        self.plan = try SegmentPlan(shape: shape, labels: labelMap, options: options)
        self.options = options
        self.shape = shape
        self.labels = labelMap
        self.scores = scores
    }

    /// Throws unless there are as many scores (and labels, when given) as `shape` holds.
    ///
    /// - Throws: ``LovaszError/invalidShape(_:)`` naming both counts.
    static func checkCounts(scores: Int, labels: Int?, shape: ProblemShape) throws(LovaszError) {
        guard scores == shape.scoreCount else {
            throw .invalidShape(
                "\(scores) scores for the shape \(shape.scoreShape.bracketed), which holds \(shape.scoreCount)")
        }
        if let labels, labels != shape.pixelCount {
            throw .invalidShape(
                "\(labels) labels for \(shape.pixelCount) pixels (labels must be \(shape.labelShape.bracketed))")
        }
    }

    /// The first non-finite score in C order, as a thrown error.
    func nonFiniteError(at flat: Int) -> LovaszError {
        .nonFiniteScore(position: shape.scorePosition(flat), value: scores[flat])
    }
}
