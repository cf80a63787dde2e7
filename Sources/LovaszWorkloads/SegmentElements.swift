public import Lovasz

/// The size of the sorting work a loss problem defines, independent of any backend.
///
/// A segment is one counted class of one group (the batch, or one image when per image) with
/// at least one valid (non-ignored) pixel; its length is the group's valid pixel count. The
/// segment-element count is the sum of those lengths, `Σ_groups classesCounted × validPixels`,
/// the number of errors that are computed, sorted and back-propagated.
public enum SegmentElements {
    /// Counts the segment elements of a problem.
    ///
    /// - Parameters:
    ///   - labels: one label per pixel, `B · pixelsPerImage` of them.
    ///   - batch: the number of images `B` (≥ 1); `labels.count` must be a multiple of it.
    ///   - classes: `C` for softmax; ignored for the binary losses (one class per group).
    ///   - options: the loss options; `classes`, `perImage` and `ignoreIndex` are used.
    /// - Returns: `Σ` over groups with at least one valid pixel of (counted classes × valid
    ///   pixels). Present classes are the labels in `0..<classes` seen among the group's valid
    ///   pixels; an explicit list counts its distinct entries; with class weights, only
    ///   classes of positive weight are sorted and counted.
    public static func count<Label: FixedWidthInteger>(
        labels: UnsafeBufferPointer<Label>, batch: Int, classes: Int, options: LossOptions
    ) -> Int {
        precondition(batch >= 1 && labels.count % batch == 0, "labels must hold the same pixels for every image")
        let pixelsPerImage = labels.count / batch
        let groupImages = options.perImage ? 1 : batch
        let ignore = options.ignoreIndex
        var total = 0
        var seen = [Bool](repeating: false, count: max(classes, 0))
        for group in stride(from: 0, to: batch, by: groupImages) {
            let pixels = labels[group * pixelsPerImage ..< (group + groupImages) * pixelsPerImage]
            var valid = 0
            for index in seen.indices { seen[index] = false }
            for label in pixels {
                let value = Int(exactly: label)
                if let ignore, value == ignore { continue }
                valid += 1
                if let value, value >= 0, value < seen.count { seen[value] = true }
            }
            guard valid > 0 else { continue }
            guard options.loss == .softmax else {
                total += valid
                continue
            }
            let chosen: [Int]
            switch options.classes {
            case .present: chosen = seen.indices.filter { seen[$0] }
            case .all: chosen = Array(0..<classes)
            case .explicit(let list): chosen = Array(Set(list))
            }
            let weighted = chosen.count { c in
                guard let weights = options.classWeights else { return true }
                return weights.indices.contains(c) && weights[c] > 0
            }
            total += weighted * valid
        }
        return total
    }

    /// Counts the segment elements of a workload's inputs.
    public static func count(_ inputs: BenchInputs) -> Int {
        inputs.labels.withUnsafeBufferPointer { labels in
            count(
                labels: labels, batch: inputs.workload.batch, classes: inputs.workload.labelClasses,
                options: inputs.workload.options)
        }
    }
}
