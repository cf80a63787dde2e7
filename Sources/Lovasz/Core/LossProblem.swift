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
        guard scores.count == shape.scoreCount else {
            throw .invalidShape(
                "\(scores.count) scores for the shape \(scoreShape.bracketed), which holds \(shape.scoreCount)")
        }
        let labelMap = try LabelMap(labels: labels, shape: shape, ignoreIndex: options.ignoreIndex)
        self.plan = try SegmentPlan(shape: shape, labels: labelMap, options: options)
        self.options = options
        self.shape = shape
        self.labels = labelMap
        self.scores = scores
    }

    /// The first non-finite score in C order, as a thrown error.
    func nonFiniteError(at flat: Int) -> LovaszError {
        .nonFiniteScore(position: shape.scorePosition(flat), value: scores[flat])
    }
}
