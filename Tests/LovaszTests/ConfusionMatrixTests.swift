import Foundation
import Lovasz
import LovaszTestSupport
import Testing

/// The confusion matrix and the IoU metrics against naive counting.
@Suite struct ConfusionMatrixTests {
    static let segmentations: [RandomSegmentation] = [
        RandomSegmentation(classes: 5, images: 3, pixelsPerImage: 35, seed: 701),
        RandomSegmentation(
            classes: 6, images: 4, pixelsPerImage: 30, ignoreIndex: 255, ignoredFraction: 0.2,
            absentLabels: [4, 5], unpredicted: [5], allIgnoredImages: [2], seed: 702),
        RandomSegmentation(
            classes: 4, images: 2, pixelsPerImage: 21, ignoreIndex: 0, ignoredFraction: 0.1, seed: 703),
        RandomSegmentation(classes: 1, images: 2, pixelsPerImage: 5, seed: 704),
        RandomSegmentation(classes: 19, images: 2, pixelsPerImage: 40, ignoreIndex: -1, ignoredFraction: 0.1,
                           agreement: 0.3, seed: 705),
    ]

    /// Worked by hand: labels (0, 0, 1, 1, 2, ignored), predictions (0, 1, 1, 1, 0, 2).
    /// Counted pairs (label, prediction): (0,0) (0,1) (1,1) (1,1) (2,0).
    /// Class 0: intersection 1, union 2 + 2 - 1 = 3 → 1/3. Class 1: 2 / (2 + 3 - 2) = 2/3.
    /// Class 2: 0 / (1 + 0 - 0) = 0 (the prediction 2 is at the ignored pixel). mIoU 1/3;
    /// pixel accuracy 3/5.
    @Test func handComputed() throws {
        let matrix = try ConfusionMatrix(
            classes: 3, ignoreIndex: 255, predictions: [0, 1, 1, 1, 0, 2] as [Int32],
            labels: [0, 0, 1, 1, 2, 255] as [UInt8])
        #expect(matrix.counts == [1, 1, 0, 0, 2, 0, 1, 0, 0])
        #expect(matrix.countedPixels == 5)
        let expected: [Double?] = [1.0 / 3, 2.0 / 3, 0]
        #expect(matrix.classIoU == expected)
        #expect(abs(matrix.meanIoU()! - 1.0 / 3) < 1e-15)
        #expect(matrix.pixelAccuracy == 0.6)
        #expect(matrix[label: 2, prediction: 0] == 1)
        #expect(matrix.labelCount(of: 0) == 2 && matrix.predictionCount(of: 1) == 3)
    }

    @Test(arguments: segmentations.indices) func countsMatchNaiveCounting(index: Int) throws {
        let data = Self.segmentations[index]
        let matrix = try ConfusionMatrix(
            classes: data.classes, ignoreIndex: data.ignoreIndex, predictions: data.predictions, labels: data.labels)
        for label in 0..<data.classes {
            for prediction in 0..<data.classes {
                let expected = label == data.ignoreIndex
                    ? 0 : zip(data.labels, data.predictions).filter { $0 == (label, prediction) }.count
                #expect(matrix[label: label, prediction: prediction] == expected)
            }
        }
        #expect(matrix.countedPixels == data.labels.filter { $0 != data.ignoreIndex }.count)
        for c in 0..<data.classes {
            let naive = NaiveIoU.classIoU(
                predictions: data.predictions, labels: data.labels, classIndex: c, ignoreIndex: data.ignoreIndex)
            let iou = matrix.iou(ofClass: c)
            if c == data.ignoreIndex {
                #expect(iou == nil)
            } else {
                #expect(iou == naive, "class \(c)")
            }
        }
    }

    @Test(arguments: segmentations.indices) func meanIoUMatchesNaiveAndReference(index: Int) throws {
        let data = Self.segmentations[index]
        let matrix = try ConfusionMatrix(
            classes: data.classes, ignoreIndex: data.ignoreIndex, predictions: data.predictions, labels: data.labels)
        func close(_ a: Double?, _ b: Double?) -> Bool {
            switch (a, b) {
            case (nil, nil): return true
            case (let a?, let b?): return abs(a - b) < 1e-12
            default: return false
            }
        }
        let p = data.predictions, l = data.labels, C = data.classes, ignore = data.ignoreIndex
        #expect(close(matrix.meanIoU(over: .appearing), NaiveIoU.meanIoU(predictions: p, labels: l, classes: C, ignoreIndex: ignore)))
        #expect(close(
            matrix.meanIoU(over: .present),
            NaiveIoU.meanIoU(predictions: p, labels: l, classes: C, ignoreIndex: ignore, presentOnly: true)))
        // Every class with EMPTY = 1 is the reference's dataset iou (per_image=False), averaged.
        let reference = NaiveIoU.reference(
            predictions: [p], labels: [l], classes: C, empty: 1, ignoreIndex: ignore, perImage: false)
        #expect(close(matrix.meanIoU(over: .all(absentValue: 1)), reference.reduce(0, +) / Double(reference.count)))
        let correct = zip(p, l).filter { $0.1 != ignore && $0.0 == $0.1 }.count
        #expect(close(matrix.pixelAccuracy, Double(correct) / Double(matrix.countedPixels)))
    }

    /// A class absent from both labels and predictions has no IoU and is left out of the
    /// default mean; a class only predicted has IoU 0 and is left out only of `present`.
    @Test func absentAndPredictedOnlyClasses() throws {
        // Class 2 absent from both; class 3 only predicted.
        let matrix = try ConfusionMatrix(
            classes: 4, predictions: [0, 1, 3, 1] as [Int], labels: [0, 1, 1, 1] as [Int])
        #expect(matrix.iou(ofClass: 2) == nil)
        #expect(matrix.iou(ofClass: 3) == 0)
        // IoU: class 0 1, class 1 2/3.
        #expect(abs(matrix.meanIoU()! - (1 + 2.0 / 3 + 0) / 3) < 1e-15)
        #expect(abs(matrix.meanIoU(over: .present)! - (1 + 2.0 / 3) / 2) < 1e-15)
        #expect(abs(matrix.meanIoU(over: .all(absentValue: 1))! - (1 + 2.0 / 3 + 1 + 0) / 4) < 1e-15)
        #expect(abs(matrix.meanIoU(over: .all(absentValue: 0))! - (1 + 2.0 / 3 + 0 + 0) / 4) < 1e-15)
        let empty = try ConfusionMatrix(classes: 3)
        #expect(empty.meanIoU() == nil && empty.meanIoU(over: .present) == nil && empty.pixelAccuracy == nil)
        #expect(empty.meanIoU(over: .all(absentValue: 1)) == 1)
    }

    /// Batch by batch, merged from workers, or all at once: the same counts.
    @Test func accumulationAndMergingAreExact() throws {
        let data = Self.segmentations[1]
        let whole = try ConfusionMatrix(
            classes: data.classes, ignoreIndex: 255, predictions: data.predictions, labels: data.labels)
        var batches = try ConfusionMatrix(classes: data.classes, ignoreIndex: 255)
        var workers = [ConfusionMatrix]()
        for b in 0..<data.images {
            let (p, l) = data.image(b)
            try batches.add(predictions: p.map { UInt8($0) }, labels: l.map { Int16($0) })
            workers.append(try ConfusionMatrix(classes: data.classes, ignoreIndex: 255, predictions: p, labels: l))
        }
        #expect(batches == whole)
        var merged = workers[0]
        for worker in workers.dropFirst() { try merged.merge(worker) }
        #expect(merged == whole)
        #expect(try workers[3] + workers[1] + workers[0] + workers[2] == whole)
        merged.reset()
        #expect(merged.countedPixels == 0 && merged.classCount == data.classes)
    }

    @Test func mergingIncompatibleMatricesThrows() throws {
        var a = try ConfusionMatrix(classes: 3, ignoreIndex: 255, predictions: [0, 1] as [Int], labels: [0, 2] as [Int])
        let before = a
        for other in [try ConfusionMatrix(classes: 4, ignoreIndex: 255), try ConfusionMatrix(classes: 3)] {
            let error = #expect(throws: MetricsError.self) { try a.merge(other) }
            guard case .incompatible = error else {
                Issue.record("expected incompatible, got \(String(describing: error))")
                continue
            }
            #expect(throws: MetricsError.self) { try a + other }
        }
        #expect(a == before)
    }

    @Test func badInputThrowsAndCountsNothing() throws {
        var matrix = try ConfusionMatrix(classes: 3, ignoreIndex: 255, predictions: [1] as [Int], labels: [1] as [Int])
        let before = matrix
        #expect(throws: MetricsError.countMismatch(predictions: 3, labels: 2)) {
            try matrix.add(predictions: [0, 1, 2] as [Int], labels: [0, 1] as [Int])
        }
        #expect(throws: MetricsError.labelOutOfRange(index: 3, label: "3", classes: 3)) {
            try matrix.add(predictions: [0, 1, 2, 0, 9] as [Int], labels: [0, 255, 2, 3, -1] as [Int])
        }
        #expect(throws: MetricsError.labelOutOfRange(index: 1, label: "-1", classes: 3)) {
            try matrix.add(predictions: [0, 1] as [Int], labels: [0, -1] as [Int8])
        }
        #expect(throws: MetricsError.predictionOutOfRange(index: 2, prediction: "3", classes: 3)) {
            try matrix.add(predictions: [0, 7, 3] as [Int], labels: [0, 255, 1] as [Int])
        }
        #expect(throws: MetricsError.predictionOutOfRange(index: 0, prediction: "18446744073709551615", classes: 3)) {
            try matrix.add(predictions: [UInt64.max], labels: [0] as [Int])
        }
        #expect(matrix == before, "nothing of a rejected batch is counted")
        #expect(throws: MetricsError.invalidClassCount(0)) { try ConfusionMatrix(classes: 0) }
        #expect(throws: MetricsError.invalidClassCount(-2)) { try ImageMeanIoU(classes: -2) }
        for error in [MetricsError.countMismatch(predictions: 1, labels: 2), .invalidShape("x"), .incompatible("y")] {
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
    }

    /// An ignore index that is also a class (ENet on Cityscapes): its pixels are not counted,
    /// the class has no IoU and is left out of the means, but predicting it is a miss.
    @Test func ignoreIndexInsideTheClasses() throws {
        let matrix = try ConfusionMatrix(
            classes: 3, ignoreIndex: 0, predictions: [0, 1, 2, 0] as [Int], labels: [0, 1, 2, 2] as [Int])
        #expect(matrix.iou(ofClass: 0) == nil)
        #expect(matrix.iou(ofClass: 1) == 1)
        #expect(matrix.iou(ofClass: 2) == 0.5)
        #expect(matrix.meanIoU(over: .all(absentValue: 1)) == 0.75)
    }

    @Test func codableRoundTrip() throws {
        let data = Self.segmentations[1]
        let matrix = try ConfusionMatrix(
            classes: data.classes, ignoreIndex: 255, predictions: data.predictions, labels: data.labels)
        let decoded = try JSONDecoder().decode(ConfusionMatrix.self, from: JSONEncoder().encode(matrix))
        #expect(decoded == matrix)
        let noIgnore = try ConfusionMatrix(classes: 2, predictions: [1] as [Int], labels: [0] as [Int])
        #expect(try JSONDecoder().decode(ConfusionMatrix.self, from: JSONEncoder().encode(noIgnore)) == noIgnore)
        for corrupt in [
            #"{"classCount": 2, "counts": [1, 2, 3]}"#,
            #"{"classCount": 0, "counts": []}"#,
            #"{"classCount": 1, "counts": [-1]}"#,
        ] {
            #expect(throws: DecodingError.self) {
                try JSONDecoder().decode(ConfusionMatrix.self, from: Data(corrupt.utf8))
            }
        }
        var images = try ImageMeanIoU(classes: data.classes, ignoreIndex: 255, averaging: .all(absentValue: 1))
        try images.add(predictions: data.predictions, labels: data.labels, images: data.images)
        #expect(try JSONDecoder().decode(ImageMeanIoU.self, from: JSONEncoder().encode(images)) == images)
    }
}
