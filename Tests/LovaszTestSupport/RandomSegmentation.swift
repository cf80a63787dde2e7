import Lovasz
/// Random labels and predictions for the IoU metrics, drawn from ``SplitMix64``.
public struct RandomSegmentation: Sendable {
    public let classes: Int
    public let images: Int
    public let pixelsPerImage: Int
    public let ignoreIndex: Int?
    /// `images · pixelsPerImage` predicted classes, image after image.
    public let predictions: [Int]
    /// `images · pixelsPerImage` labels, image after image.
    public let labels: [Int]

    /// Draws a segmentation.
    ///
    /// - Parameters:
    ///   - absentLabels: classes no pixel is labelled with.
    ///   - unpredicted: classes never predicted (with `absentLabels`: classes absent from both).
    ///   - agreement: the probability that a pixel's prediction is its label (when allowed).
    ///   - allIgnoredImages: images whose labels are all the ignore index.
    public init(
        classes: Int, images: Int, pixelsPerImage: Int, ignoreIndex: Int? = nil, ignoredFraction: Double = 0,
        absentLabels: [Int] = [], unpredicted: [Int] = [], agreement: Double = 0.6,
        allIgnoredImages: [Int] = [], seed: UInt64
    ) {
        var random = SplitMix64(seed: seed)
        let labelValues = (0..<classes).filter { !absentLabels.contains($0) && $0 != ignoreIndex }
        let predictionValues = (0..<classes).filter { !unpredicted.contains($0) }
        var labels: [Int] = []
        var predictions: [Int] = []
        for b in 0..<images {
            for _ in 0..<pixelsPerImage {
                let ignored = allIgnoredImages.contains(b) || (ignoreIndex != nil && random.chance(ignoredFraction))
                let label = ignored ? ignoreIndex! : random.element(of: labelValues)
                let agree = !ignored && random.chance(agreement) && predictionValues.contains(label)
                labels.append(label)
                predictions.append(agree ? label : random.element(of: predictionValues))
            }
        }
        self.classes = classes
        self.images = images
        self.pixelsPerImage = pixelsPerImage
        self.ignoreIndex = ignoreIndex
        self.predictions = predictions
        self.labels = labels
    }

    /// The predictions and labels of image `b`.
    public func image(_ b: Int) -> (predictions: [Int], labels: [Int]) {
        let range = b * pixelsPerImage ..< (b + 1) * pixelsPerImage
        return (Array(predictions[range]), Array(labels[range]))
    }
}
