/// Which classes a mean IoU averages over.
public enum MeanIoUClasses: Sendable, Hashable, Codable {
    /// Classes that appear in the labels or in the predictions (a non-empty union): the usual
    /// dataset mIoU. A class absent from both is left out rather than counted as 0 or 1.
    case appearing
    /// Classes with at least one labelled pixel, as the `present` class selection of the
    /// Lovász-Softmax loss; a class that is only predicted (IoU 0) is left out.
    case present
    /// Every class; a class absent from both labels and predictions counts as `absentValue`.
    /// `.all(absentValue: 1)` is the reference implementation's `iou(..., EMPTY=1.)`.
    case all(absentValue: Double)
}

extension ConfusionMatrix {
    /// The pixels labelled `c` and predicted `c`.
    /// - Precondition: `c` is in `0..<classCount`.
    public func intersection(of c: Int) -> Int {
        self[label: c, prediction: c]
    }

    /// The pixels labelled `c` or predicted `c` (among counted pixels).
    /// - Precondition: `c` is in `0..<classCount`.
    public func union(of c: Int) -> Int {
        labelCount(of: c) + predictionCount(of: c) - intersection(of: c)
    }

    /// The Jaccard index (IoU) of class `c`: `|label = c ∧ prediction = c| / |label = c ∨ prediction = c|`.
    ///
    /// - Precondition: `c` is in `0..<classCount`.
    /// - Returns: a value in `[0, 1]`, or `nil` when the class appears in neither the labels nor
    ///   the predictions (an empty union: 0/0) and for the ignore index.
    public func iou(ofClass c: Int) -> Double? {
        if c == ignoreIndex { return nil }
        let union = union(of: c)
        return union == 0 ? nil : Double(intersection(of: c)) / Double(union)
    }

    /// ``iou(ofClass:)`` of every class, `nil` where it is undefined.
    public var classIoU: [Double?] {
        (0..<classCount).map(iou(ofClass:))
    }

    /// The mean IoU over the chosen classes (the ignore index is never one of them).
    ///
    /// - Parameter classes: ``MeanIoUClasses/appearing`` (default: the dataset mIoU),
    ///   ``MeanIoUClasses/present`` (the batch-mIoU over present classes), or
    ///   ``MeanIoUClasses/all(absentValue:)``.
    /// - Returns: the mean in `[0, 1]` (for an `absentValue` in `[0, 1]`), or `nil` when no
    ///   class qualifies (nothing counted).
    public func meanIoU(over classes: MeanIoUClasses = .appearing) -> Double? {
        var sum = 0.0
        var included = 0
        for c in 0..<classCount where c != ignoreIndex {
            let value: Double?
            switch classes {
            case .appearing: value = iou(ofClass: c)
            case .present: value = labelCount(of: c) > 0 ? iou(ofClass: c) : nil
            case .all(let absentValue): value = iou(ofClass: c) ?? absentValue
            }
            if let value {
                sum += value
                included += 1
            }
        }
        return included == 0 ? nil : sum / Double(included)
    }

    /// The fraction of counted pixels predicted correctly, or `nil` when none is counted.
    public var pixelAccuracy: Double? {
        let total = countedPixels
        guard total > 0 else { return nil }
        return Double((0..<classCount).reduce(0) { $0 + intersection(of: $1) }) / Double(total)
    }
}
