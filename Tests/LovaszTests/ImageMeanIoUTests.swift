import Foundation
import Lovasz
import LovaszTestSupport
import Testing

/// The image-mIoU against naive per-image counting and the reference's `per_image=True`.
@Suite struct ImageMeanIoUTests {
    @Test(arguments: ConfusionMatrixTests.segmentations.indices) func matchesNaivePerImageMeans(index: Int) throws {
        let data = ConfusionMatrixTests.segmentations[index]
        for averaging in [MeanIoUClasses.appearing, .present, .all(absentValue: 1), .all(absentValue: 0)] {
            var accumulator = try ImageMeanIoU(classes: data.classes, ignoreIndex: data.ignoreIndex, averaging: averaging)
            try accumulator.add(predictions: data.predictions, labels: data.labels, images: data.images)
            var means: [Double] = []
            for b in 0..<data.images {
                let (p, l) = data.image(b)
                let mean: Double?
                switch averaging {
                case .appearing:
                    mean = NaiveIoU.meanIoU(predictions: p, labels: l, classes: data.classes, ignoreIndex: data.ignoreIndex)
                case .present:
                    mean = NaiveIoU.meanIoU(
                        predictions: p, labels: l, classes: data.classes, ignoreIndex: data.ignoreIndex, presentOnly: true)
                case .all(let absentValue):
                    mean = NaiveIoU.meanIoU(
                        predictions: p, labels: l, classes: data.classes, ignoreIndex: data.ignoreIndex,
                        absentValue: absentValue)
                }
                if let mean { means.append(mean) }
            }
            #expect(accumulator.imageCount == data.images)
            #expect(accumulator.scoredImageCount == means.count, "\(averaging)")
            if means.isEmpty {
                #expect(accumulator.value == nil)
            } else {
                let expected = means.reduce(0, +) / Double(means.count)
                #expect(abs(accumulator.value! - expected) < 1e-12, "\(averaging)")
            }
        }
    }

    /// With EMPTY = 1, the mean over images of the image mIoU is the mean over classes of the
    /// reference's `iou(..., per_image=True)`.
    @Test(arguments: ConfusionMatrixTests.segmentations.indices) func matchesTheReference(index: Int) throws {
        let data = ConfusionMatrixTests.segmentations[index]
        guard (0..<data.classes).contains(where: { $0 != data.ignoreIndex }) else { return }
        var accumulator = try ImageMeanIoU(classes: data.classes, ignoreIndex: data.ignoreIndex, averaging: .all(absentValue: 1))
        try accumulator.add(predictions: data.predictions, labels: data.labels, images: data.images)
        let images = (0..<data.images).map { data.image($0) }
        let reference = NaiveIoU.reference(
            predictions: images.map(\.predictions), labels: images.map(\.labels), classes: data.classes,
            empty: 1, ignoreIndex: data.ignoreIndex, perImage: true)
        #expect(abs(accumulator.value! - reference.reduce(0, +) / Double(reference.count)) < 1e-12)
    }

    @Test func imagesOneByOneAndMerged() throws {
        let data = ConfusionMatrixTests.segmentations[1]
        var batch = try ImageMeanIoU(classes: data.classes, ignoreIndex: 255)
        try batch.add(predictions: data.predictions, labels: data.labels, images: data.images)
        // Image 2 is all ignored: counted, not scored.
        #expect(batch.imageCount == 4 && batch.scoredImageCount == 3)
        var first = try ImageMeanIoU(classes: data.classes, ignoreIndex: 255)
        var second = first
        for b in 0..<data.images {
            let (p, l) = data.image(b)
            let matrix = try ConfusionMatrix(classes: data.classes, ignoreIndex: 255, predictions: p, labels: l)
            if b < 2 { try first.add(image: matrix) } else { try second.add(image: matrix) }
        }
        let merged = try first + second
        #expect(merged.imageCount == batch.imageCount && merged.scoredImageCount == batch.scoredImageCount)
        #expect(abs(merged.value! - batch.value!) < 1e-15)

        let other = try ImageMeanIoU(classes: data.classes, ignoreIndex: 255, averaging: .present)
        #expect(throws: MetricsError.self) { try first.merge(other) }
        #expect(throws: MetricsError.self) { try first.add(image: ConfusionMatrix(classes: 2)) }
        let before = first
        #expect(throws: MetricsError.invalidShape("7 pixels cannot be split into 2 images of equal size")) {
            try first.add(predictions: [Int](repeating: 0, count: 7), labels: [Int](repeating: 0, count: 7), images: 2)
        }
        #expect(throws: MetricsError.labelOutOfRange(index: 5, label: "9", classes: 6)) {
            try first.add(predictions: [Int](repeating: 0, count: 6), labels: [0, 0, 0, 0, 0, 9], images: 2)
        }
        #expect(first == before, "nothing of a rejected batch is added")
    }
}
