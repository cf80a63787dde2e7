/// Counts of (label, prediction) pairs over the pixels of a dataset: the basis of the IoU
/// metrics.
///
/// Accumulate it batch by batch with ``add(predictions:labels:)``; data-parallel workers each
/// keep their own and combine them with ``merge(_:)`` or `+` (integer counts: the merged
/// matrix is exact and independent of the order of merging). Pixels whose label is the ignore
/// index are not counted at all, whatever their prediction.
///
/// ```swift
/// var matrix = try ConfusionMatrix(classes: 21, ignoreIndex: 255)
/// for batch in batches {
///     let predictions = try Predictions.argmax(scores: batch.scores, shape: batch.shape)
///     try matrix.add(predictions: predictions, labels: batch.labels)
/// }
/// let datasetMIoU = matrix.meanIoU()          // classes seen in labels or predictions
/// ```
public struct ConfusionMatrix: Sendable, Hashable, Codable {
    /// The number of classes `C`; labels and predictions are in `0..<C`.
    public let classCount: Int
    /// The label of pixels that are not counted, or `nil`. When it lies in `0..<C` (a class
    /// that models may predict), that class is left out of every IoU mean.
    public let ignoreIndex: Int?
    /// `counts[label · C + prediction]`: the number of counted pixels with that label and
    /// that prediction (row-major, rows are labels).
    public private(set) var counts: [Int]

    /// An empty matrix.
    ///
    /// - Parameters:
    ///   - classes: the number of classes `C ≥ 1`.
    ///   - ignoreIndex: the label of pixels to leave out, or `nil`.
    /// - Throws: ``MetricsError/invalidClassCount(_:)`` when `classes < 1`.
    public init(classes: Int, ignoreIndex: Int? = nil) throws(MetricsError) {
        guard classes >= 1 else { throw .invalidClassCount(classes) }
        self.classCount = classes
        self.ignoreIndex = ignoreIndex
        self.counts = [Int](repeating: 0, count: classes * classes)
    }

    /// A matrix with the given counts (already validated).
    init(classes: Int, ignoreIndex: Int?, counts: [Int]) {
        self.classCount = classes
        self.ignoreIndex = ignoreIndex
        self.counts = counts
    }

    /// A matrix counting one set of predictions: for example the batch-mIoU is
    /// `ConfusionMatrix(classes:ignoreIndex:predictions:labels:).meanIoU(over: .present)`.
    ///
    /// - Throws: as ``init(classes:ignoreIndex:)`` and ``add(predictions:labels:)``.
    public init<Prediction: FixedWidthInteger, Label: FixedWidthInteger>(
        classes: Int, ignoreIndex: Int? = nil,
        predictions: some Collection<Prediction>, labels: some Collection<Label>
    ) throws(MetricsError) {
        try self.init(classes: classes, ignoreIndex: ignoreIndex)
        try add(predictions: predictions, labels: labels)
    }

    /// The number of counted pixels with this label and this prediction.
    /// - Precondition: both are in `0..<classCount`.
    public subscript(label label: Int, prediction prediction: Int) -> Int {
        precondition((0..<classCount).contains(label) && (0..<classCount).contains(prediction), "class out of range")
        return counts[label * classCount + prediction]
    }

    /// The number of counted (not ignored) pixels.
    public var countedPixels: Int { counts.reduce(0, +) }

    /// The number of counted pixels labelled `c` (a row sum).
    /// - Precondition: `c` is in `0..<classCount`.
    public func labelCount(of c: Int) -> Int {
        precondition((0..<classCount).contains(c), "class out of range")
        return counts[c * classCount ..< (c + 1) * classCount].reduce(0, +)
    }

    /// The number of counted pixels predicted as `c` (a column sum).
    /// - Precondition: `c` is in `0..<classCount`.
    public func predictionCount(of c: Int) -> Int {
        precondition((0..<classCount).contains(c), "class out of range")
        return stride(from: c, to: counts.count, by: classCount).reduce(0) { $0 + counts[$1] }
    }

    /// Counts a batch of predictions against its labels.
    ///
    /// Either every pixel is counted or, when an error is thrown, none is: the matrix is then
    /// unchanged.
    ///
    /// - Parameters:
    ///   - predictions: one class per pixel, in `0..<classCount` (not checked at ignored pixels).
    ///   - labels: one label per pixel, in `0..<classCount` or equal to ``ignoreIndex``. Any
    ///     integer types, in the same (for example C) order.
    /// - Throws: ``MetricsError/countMismatch(predictions:labels:)`` when the lengths differ;
    ///   ``MetricsError/labelOutOfRange(index:label:classes:)`` or
    ///   ``MetricsError/predictionOutOfRange(index:prediction:classes:)`` for the first bad
    ///   pixel in order.
    public mutating func add<Prediction: FixedWidthInteger, Label: FixedWidthInteger>(
        predictions: some Collection<Prediction>, labels: some Collection<Label>
    ) throws(MetricsError) {
        let tally = try Self.tally(
            classes: classCount, ignoreIndex: ignoreIndex, predictions: predictions, labels: labels, images: 1)
        for (i, n) in tally[0].enumerated() { counts[i] += n }
    }

    /// Adds the counts of another matrix, for example a data-parallel worker's.
    ///
    /// - Throws: ``MetricsError/incompatible(_:)`` when the class counts or ignore indices
    ///   differ; the matrix is then unchanged.
    public mutating func merge(_ other: ConfusionMatrix) throws(MetricsError) {
        try checkCompatible(with: other)
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// The sum of two matrices' counts.
    ///
    /// - Throws: ``MetricsError/incompatible(_:)`` as ``merge(_:)``.
    public static func + (lhs: ConfusionMatrix, rhs: ConfusionMatrix) throws(MetricsError) -> ConfusionMatrix {
        var sum = lhs
        try sum.merge(rhs)
        return sum
    }

    /// Sets every count to zero.
    public mutating func reset() {
        counts = [Int](repeating: 0, count: counts.count)
    }

    func checkCompatible(with other: ConfusionMatrix) throws(MetricsError) {
        if other.classCount != classCount {
            throw .incompatible("\(classCount) classes and \(other.classCount) classes")
        }
        if other.ignoreIndex != ignoreIndex {
            throw .incompatible(
                "ignore index \(ignoreIndex.map(String.init) ?? "none") and \(other.ignoreIndex.map(String.init) ?? "none")")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case classCount, ignoreIndex, counts
    }

    /// Decodes a matrix, checking that it is consistent (`C ≥ 1`, `C²` non-negative counts).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let classCount = try container.decode(Int.self, forKey: .classCount)
        let counts = try container.decode([Int].self, forKey: .counts)
        guard classCount >= 1, counts.count == classCount * classCount, counts.allSatisfy({ $0 >= 0 }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .counts, in: container,
                debugDescription: "a confusion matrix of \(classCount) classes needs \(classCount)² non-negative counts")
        }
        self.classCount = classCount
        self.ignoreIndex = try container.decodeIfPresent(Int.self, forKey: .ignoreIndex)
        self.counts = counts
    }
}

extension ConfusionMatrix {
    /// The confusion counts of consecutive equal runs of pixels (one per image), validated.
    ///
    /// - Returns: `images` arrays of `C²` counts.
    static func tally<Prediction: FixedWidthInteger, Label: FixedWidthInteger>(
        classes: Int, ignoreIndex: Int?,
        predictions: some Collection<Prediction>, labels: some Collection<Label>, images: Int
    ) throws(MetricsError) -> [[Int]] {
        let count = labels.count
        guard predictions.count == count else {
            throw .countMismatch(predictions: predictions.count, labels: count)
        }
        guard images >= 1, count % images == 0 else {
            throw .invalidShape("\(count) pixels cannot be split into \(images) images of equal size")
        }
        let pixelsPerImage = count / images
        var tallies = [[Int]](repeating: [Int](repeating: 0, count: classes * classes), count: images)
        var index = 0
        for (p, l) in zip(predictions, labels) {
            defer { index += 1 }
            guard let label = Int(exactly: l) else {
                throw .labelOutOfRange(index: index, label: String(l), classes: classes)
            }
            if label == ignoreIndex { continue }
            guard label >= 0, label < classes else {
                throw .labelOutOfRange(index: index, label: String(l), classes: classes)
            }
            guard let prediction = Int(exactly: p), prediction >= 0, prediction < classes else {
                throw .predictionOutOfRange(index: index, prediction: String(p), classes: classes)
            }
            tallies[index / pixelsPerImage][label * classes + prediction] += 1
        }
        return tallies
    }
}
