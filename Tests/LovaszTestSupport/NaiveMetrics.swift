/// IoU metrics by direct counting, written from their definitions and from the reference
/// implementation's `iou` (Berman et al., `lovasz_losses.py`), independently of the library.
public enum NaiveIoU {
    /// The IoU of class `c`: pixels labelled and predicted `c` over pixels labelled `c` or
    /// predicted `c` with a label that is not ignored; `nil` when that union is empty.
    public static func classIoU(predictions: [Int], labels: [Int], classIndex c: Int, ignoreIndex: Int?) -> Double? {
        var intersection = 0
        var union = 0
        for (p, l) in zip(predictions, labels) where l != ignoreIndex {
            if l == c && p == c { intersection += 1 }
            if l == c || p == c { union += 1 }
        }
        return union == 0 ? nil : Double(intersection) / Double(union)
    }

    /// Whether class `c` has at least one pixel labelled `c`.
    public static func isPresent(labels: [Int], classIndex c: Int) -> Bool {
        labels.contains(c)
    }

    /// The mean IoU over classes other than the ignore index: `appearing` classes (non-empty
    /// union), `present` classes (labelled somewhere), or every class with `absentValue` for an
    /// empty union when `absentValue` is given. `nil` when no class qualifies.
    public static func meanIoU(
        predictions: [Int], labels: [Int], classes: Int, ignoreIndex: Int?,
        presentOnly: Bool = false, absentValue: Double? = nil
    ) -> Double? {
        var values: [Double] = []
        for c in 0..<classes where c != ignoreIndex {
            if presentOnly && !isPresent(labels: labels.filter { $0 != ignoreIndex }, classIndex: c) { continue }
            if let iou = classIoU(predictions: predictions, labels: labels, classIndex: c, ignoreIndex: ignoreIndex) {
                values.append(iou)
            } else if let absentValue {
                values.append(absentValue)
            }
        }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// The reference's `iou(preds, labels, C, EMPTY, ignore, per_image)` as fractions (the
    /// reference returns percentages): per class other than `ignore`, the IoU (or `empty` for
    /// an empty union) of each image, averaged over images when `perImage`, else of all
    /// images together.
    public static func reference(
        predictions: [[Int]], labels: [[Int]], classes: Int, empty: Double = 1, ignoreIndex: Int?, perImage: Bool
    ) -> [Double] {
        let groups = perImage
            ? Array(zip(predictions, labels))
            : [(predictions.flatMap { $0 }, labels.flatMap { $0 })]
        let perGroup: [[Double]] = groups.map { p, l in
            (0..<classes).filter { $0 != ignoreIndex }.map { c in
                classIoU(predictions: p, labels: l, classIndex: c, ignoreIndex: ignoreIndex) ?? empty
            }
        }
        let count = perGroup[0].count
        return (0..<count).map { k in perGroup.map { $0[k] }.reduce(0, +) / Double(perGroup.count) }
    }

    /// The index of the largest value, the first one on ties.
    public static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for (i, v) in values.enumerated() where v > values[best] { best = i }
        return best
    }
}
