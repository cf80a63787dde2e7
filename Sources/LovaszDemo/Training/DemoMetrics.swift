// TEMPORARY STAND-IN: the library's IoU metrics (`ConfusionMatrix`, per-class IoU, data-set,
// image and batch mIoU in Sources/Lovasz/Metrics) are being written in parallel. This small
// helper exists only so that the demo does not wait for them; replace it with the library's
// metrics once they are merged.

/// The IoU scores of a set of predicted masks (the demo's stand-in for the library's metrics).
///
/// Sec. 3.1 of the paper explains why these differ: the data-set mIoU pools every pixel, the
/// image mIoU averages per-image scores (small objects weigh as much as large ones), and the
/// batch mIoU is what a loss computed over a batch with `classes: present` sees.
public struct SegmentationScores: Sendable, Equatable {
    /// The IoU of each class over the whole data set; `nil` when the class is neither in the
    /// ground truth nor predicted.
    public var classIoU: [Double?]
    /// The mean of ``classIoU`` over the classes that have one.
    public var datasetMIoU: Double
    /// The mean over images of each image's mean IoU over the classes in its ground truth or
    /// its prediction (classes in neither are skipped rather than counted as 1).
    public var imageMIoU: Double
    /// The mean over batches of each batch's mean IoU over the classes present in the batch's
    /// ground truth (the classes a `present` Lovász-Softmax loss counts).
    public var batchMIoU: Double

    /// Scores `predictions` against `labels`.
    ///
    /// - Parameters:
    ///   - predictions: one class per pixel, `[images, pixelsPerImage]`.
    ///   - labels: the ground truth, same layout; `ignore` pixels are not scored.
    ///   - batches: the partition of the images into batches, for ``batchMIoU``.
    public init(
        predictions: [UInt8], labels: [UInt8], images: Int, classes: Int, ignore: UInt8, batches: [[Int]]
    ) {
        precondition(predictions.count == labels.count && images > 0 && labels.count % images == 0)
        let pixels = labels.count / images
        // Per image and class: intersection, union, ground-truth pixels.
        var intersection = [Int](repeating: 0, count: images * classes)
        var union = intersection, truth = intersection
        for image in 0..<images {
            for i in image * pixels ..< (image + 1) * pixels where labels[i] != ignore {
                let t = Int(labels[i]), p = Int(predictions[i])
                truth[image * classes + t] += 1
                union[image * classes + t] += 1
                if p == t { intersection[image * classes + t] += 1 } else if p < classes { union[image * classes + p] += 1 }
            }
        }
        func pooledIoU(_ members: [Int], _ c: Int) -> Double? {
            let u = members.reduce(0) { $0 + union[$1 * classes + c] }
            return u == 0 ? nil : Double(members.reduce(0) { $0 + intersection[$1 * classes + c] }) / Double(u)
        }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

        let all = Array(0..<images)
        classIoU = (0..<classes).map { pooledIoU(all, $0) }
        datasetMIoU = mean(classIoU.compactMap { $0 })
        imageMIoU = mean(all.compactMap { image in
            let scores = (0..<classes).compactMap { pooledIoU([image], $0) }
            return scores.isEmpty ? nil : mean(scores)
        })
        batchMIoU = mean(batches.compactMap { batch in
            let present = (0..<classes).filter { c in batch.contains { truth[$0 * classes + c] > 0 } }
            return present.isEmpty ? nil : mean(present.map { pooledIoU(batch, $0) ?? 0 })
        })
    }
}
