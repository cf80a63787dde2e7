/// The image-mIoU: the mean over images of each image's own mean IoU.
///
/// Each image gets its own confusion matrix and its mean IoU over ``classes``; this
/// accumulates their sum. An image whose mean is undefined (no class qualifies, for example
/// all its pixels ignored with ``MeanIoUClasses/appearing``) is counted in ``imageCount`` but
/// left out of the mean. With `.all(absentValue: 1)` this is the reference implementation's
/// `mean(iou(..., per_image=True))` (as a fraction, not a percentage).
///
/// Mergeable across data-parallel workers; the sum is in Double, so the order of merging can
/// change the last bits.
public struct ImageMeanIoU: Sendable, Hashable, Codable {
    /// The number of classes `C`.
    public let classCount: Int
    /// The label of pixels that are not counted, or `nil`.
    public let ignoreIndex: Int?
    /// The classes each image's mean runs over.
    public let classes: MeanIoUClasses
    /// Images added.
    public private(set) var imageCount: Int = 0
    /// Images whose mean IoU is defined, the denominator of ``value``.
    public private(set) var scoredImageCount: Int = 0
    /// The sum of the defined per-image mean IoUs.
    public private(set) var sum: Double = 0

    /// An empty accumulator.
    ///
    /// - Parameters:
    ///   - classes: the number of classes `C ≥ 1`.
    ///   - ignoreIndex: the label of pixels to leave out, or `nil`.
    ///   - averaging: the classes of each image's mean (default: those appearing in the image).
    /// - Throws: ``MetricsError/invalidClassCount(_:)`` when `classes < 1`.
    public init(classes: Int, ignoreIndex: Int? = nil, averaging: MeanIoUClasses = .appearing) throws(MetricsError) {
        guard classes >= 1 else { throw .invalidClassCount(classes) }
        self.classCount = classes
        self.ignoreIndex = ignoreIndex
        self.classes = averaging
    }

    /// The mean over scored images of their mean IoU, or `nil` before any is scored.
    public var value: Double? {
        scoredImageCount == 0 ? nil : sum / Double(scoredImageCount)
    }

    /// Adds one image, given as its confusion matrix.
    ///
    /// - Throws: ``MetricsError/incompatible(_:)`` when the matrix has another class count or
    ///   ignore index.
    public mutating func add(image: ConfusionMatrix) throws(MetricsError) {
        if image.classCount != classCount || image.ignoreIndex != ignoreIndex {
            throw .incompatible(
                "an image matrix of \(image.classCount) classes, ignore index \(image.ignoreIndex.map(String.init) ?? "none")")
        }
        imageCount += 1
        if let mean = image.meanIoU(over: classes) {
            sum += mean
            scoredImageCount += 1
        }
    }

    /// Adds a batch of `images` equal-sized images stored one after the other (C order
    /// `[B, ...]`).
    ///
    /// Either every image is added or, when an error is thrown, none is.
    ///
    /// - Parameters:
    ///   - predictions: one class per pixel (not checked at ignored pixels).
    ///   - labels: one label per pixel, in `0..<C` or the ignore index.
    ///   - images: `B ≥ 1`, dividing the number of pixels.
    /// - Throws: as ``ConfusionMatrix/add(predictions:labels:)`` (positions are flat indices in
    ///   the whole batch), and ``MetricsError/invalidShape(_:)`` when the pixels do not split
    ///   into `images` equal images.
    public mutating func add<Prediction: FixedWidthInteger, Label: FixedWidthInteger>(
        predictions: some Collection<Prediction>, labels: some Collection<Label>, images: Int
    ) throws(MetricsError) {
        let tallies = try ConfusionMatrix.tally(
            classes: classCount, ignoreIndex: ignoreIndex, predictions: predictions, labels: labels, images: images)
        for counts in tallies {
            try add(image: ConfusionMatrix(classes: classCount, ignoreIndex: ignoreIndex, counts: counts))
        }
    }

    /// Adds another accumulator's images, for example a data-parallel worker's.
    ///
    /// - Throws: ``MetricsError/incompatible(_:)`` when the class counts, ignore indices or
    ///   averaging differ; nothing is added then.
    public mutating func merge(_ other: ImageMeanIoU) throws(MetricsError) {
        if other.classCount != classCount || other.ignoreIndex != ignoreIndex || other.classes != classes {
            throw .incompatible("image-mIoU accumulators with different classes, ignore index or averaging")
        }
        imageCount += other.imageCount
        scoredImageCount += other.scoredImageCount
        sum += other.sum
    }

    /// Both accumulators' images together.
    ///
    /// - Throws: ``MetricsError/incompatible(_:)`` as ``merge(_:)``.
    public static func + (lhs: ImageMeanIoU, rhs: ImageMeanIoU) throws(MetricsError) -> ImageMeanIoU {
        var sum = lhs
        try sum.merge(rhs)
        return sum
    }

    private enum CodingKeys: String, CodingKey {
        case classCount, ignoreIndex, classes, imageCount, scoredImageCount, sum
    }

    /// Decodes an accumulator, checking that it is consistent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.classCount = try container.decode(Int.self, forKey: .classCount)
        self.ignoreIndex = try container.decodeIfPresent(Int.self, forKey: .ignoreIndex)
        self.classes = try container.decode(MeanIoUClasses.self, forKey: .classes)
        self.imageCount = try container.decode(Int.self, forKey: .imageCount)
        self.scoredImageCount = try container.decode(Int.self, forKey: .scoredImageCount)
        self.sum = try container.decode(Double.self, forKey: .sum)
        guard classCount >= 1, scoredImageCount >= 0, scoredImageCount <= imageCount else {
            throw DecodingError.dataCorruptedError(
                forKey: .scoredImageCount, in: container, debugDescription: "inconsistent image-mIoU accumulator")
        }
    }
}
