import Lovasz

/// The IoU scores of a set of predicted masks, from the library's ``Lovasz/ConfusionMatrix``
/// and ``Lovasz/ImageMeanIoU``.
///
/// Sec. 3.1 of the paper explains why these differ: the data-set mIoU pools every pixel, the
/// image mIoU averages per-image scores (small objects weigh as much as large ones), and the
/// batch mIoU is what a loss computed over a batch with `classes: present` sees.
public struct SegmentationScores: Sendable, Equatable {
    /// The IoU of each class over the whole data set; `nil` when the class is neither in the
    /// ground truth nor predicted.
    public var classIoU: [Double?]
    /// The mean of ``classIoU`` over the classes that have one (``Lovasz/MeanIoUClasses/appearing``).
    public var datasetMIoU: Double
    /// The mean over images of each image's mean IoU over the classes in its ground truth or
    /// its prediction (classes in neither are skipped rather than counted as 1).
    public var imageMIoU: Double
    /// The mean over batches of each batch's mean IoU over the classes present in the batch's
    /// ground truth (``Lovasz/MeanIoUClasses/present``: the classes a `present` Lovász-Softmax
    /// loss counts).
    public var batchMIoU: Double

    /// Scores `predictions` against `labels`.
    ///
    /// - Parameters:
    ///   - predictions: one class per pixel in `0..<classes`, `[images, pixelsPerImage]`.
    ///   - labels: the ground truth, same layout, each in `0..<classes` or `ignore` (not scored).
    ///   - batches: the images of each batch, for ``batchMIoU``.
    /// - Precondition: the counts match and every value is in range (the demo's own data).
    public init(
        predictions: [UInt8], labels: [UInt8], images: Int, classes: Int, ignore: UInt8, batches: [[Int]]
    ) {
        precondition(predictions.count == labels.count && images > 0 && labels.count % images == 0)
        let pixels = labels.count / images
        func slice(_ values: [UInt8], _ image: Int) -> ArraySlice<UInt8> { values[image * pixels ..< (image + 1) * pixels] }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        do {
            let dataset = try ConfusionMatrix(classes: classes, ignoreIndex: Int(ignore), predictions: predictions, labels: labels)
            var perImage = try ImageMeanIoU(classes: classes, ignoreIndex: Int(ignore), averaging: .appearing)
            try perImage.add(predictions: predictions, labels: labels, images: images)
            var batchScores = [Double]()
            for batch in batches {
                var matrix = try ConfusionMatrix(classes: classes, ignoreIndex: Int(ignore))
                for image in batch { try matrix.add(predictions: slice(predictions, image), labels: slice(labels, image)) }
                if let score = matrix.meanIoU(over: .present) { batchScores.append(score) }
            }
            classIoU = dataset.classIoU
            datasetMIoU = dataset.meanIoU(over: .appearing) ?? 0
            imageMIoU = perImage.value ?? 0
            batchMIoU = mean(batchScores)
        } catch {
            preconditionFailure("the demo's masks do not fit their classes: \(error)")
        }
    }
}
