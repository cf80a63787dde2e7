/// A validated loss computation: shape, labels, plan and the caller's scores.
///
/// The scores (and uint8 labels that are their own class map, ``LabelMap/isOwnClassMap(_:labelClasses:ignoreIndex:)``)
/// are borrowed for the duration of one call and never stored.
struct LossProblem {
    let options: LossOptions
    let shape: ProblemShape
    let labels: LabelMap
    let plan: SegmentPlan
    /// The caller's scores as they are, ``scoreType`` elements.
    let scoreBytes: UnsafeRawBufferPointer
    let scoreType: ScoreType

    /// The scores of a float32 problem (the CPU path widens others first, see
    /// ``withScores(_:)``).
    var scores: UnsafeBufferPointer<Float> {
        precondition(scoreType == .float32, "float32 scores expected")
        return UnsafeBufferPointer(
            start: scoreBytes.baseAddress?.assumingMemoryBound(to: Float.self), count: scoreBytes.count / 4)
    }

    /// Validates shapes, options and labels (not the score values: each backend tests those
    /// in its first pass) and plans the segments; the labels are mapped on up to `workers`
    /// threads (at least 1).
    init<Scores: LovaszScalar, Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Scores>,
        shape scoreShape: [Int],
        labels: UnsafeBufferPointer<Label>,
        options: LossOptions,
        workers: Int = 1
    ) throws(LovaszError) {
        let shape = try ProblemShape(scores: scoreShape, loss: options.loss)
        try Self.checkCounts(scores: scores.count, labels: nil, shape: shape)
        let labelMap = try LabelMap(labels: labels, shape: shape, ignoreIndex: options.ignoreIndex, workers: workers)
        self.plan = try SegmentPlan(shape: shape, labels: labelMap, options: options)
        self.options = options
        self.shape = shape
        self.labels = labelMap
        self.scoreBytes = UnsafeRawBufferPointer(scores)
        self.scoreType = Scores.scoreType
    }

    /// The same problem with `scores` (as many as this problem's, float32) instead.
    func withScores(_ scores: UnsafeBufferPointer<Float>) -> LossProblem {
        precondition(scores.count == shape.scoreCount)
        return LossProblem(
            options: options, shape: shape, labels: labels, plan: plan, scoreBytes: UnsafeRawBufferPointer(scores),
            scoreType: .float32)
    }

    private init(
        options: LossOptions, shape: ProblemShape, labels: LabelMap, plan: SegmentPlan, scoreBytes: UnsafeRawBufferPointer,
        scoreType: ScoreType
    ) {
        self.options = options
        self.shape = shape
        self.labels = labels
        self.plan = plan
        self.scoreBytes = scoreBytes
        self.scoreType = scoreType
    }

    /// The score at flat index `flat`, widened to `Float`.
    func score(at flat: Int) -> Float {
        scoreType.value(in: scoreBytes, at: flat)
    }

    /// The binary16 value with these bits, exactly, without relying on `Float16` (not on
    /// every platform).
    static func widenFloat16(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10) & 0x1F, fraction = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 0x1F: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction * 0x1p-10) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
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
        .nonFiniteScore(position: shape.scorePosition(flat), value: score(at: flat))
    }
}

extension ScoreType {
    /// The element at index `flat` of `bytes` (elements of this type), widened to `Float` exactly.
    func value(in bytes: UnsafeRawBufferPointer, at flat: Int) -> Float {
        switch self {
        case .float32: return bytes.loadUnaligned(fromByteOffset: flat * 4, as: Float.self)
        case .bfloat16: return BFloat16(bitPattern: bytes.loadUnaligned(fromByteOffset: flat * 2, as: UInt16.self)).floatValue
        case .float16: return LossProblem.widenFloat16(bytes.loadUnaligned(fromByteOffset: flat * 2, as: UInt16.self))
        }
    }
}
