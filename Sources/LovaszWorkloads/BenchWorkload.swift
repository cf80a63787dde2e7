package import Lovasz

/// A standard benchmark problem: a loss, its options and the shape of its scores.
///
/// The standard workloads are the shapes segmentation networks train on (Pascal VOC, Cityscapes,
/// ADE20K) and the binary hinge, per batch and per image. ``BenchInputs`` fills them with
/// seeded data, so that every run and every tool times the same numbers.
///
/// ```swift
/// let voc = BenchWorkload.named("voc")!                 // 8 × 21 × 321 × 321, present classes
/// let inputs = BenchInputs(workload: voc.scaled(.tiny), data: .trained, seed: 1)
/// ```
package struct BenchWorkload: Sendable, Hashable {
    /// The name used on the command line and in reports, for example `voc-per-image`.
    package var name: String
    /// One line describing the workload.
    package var summary: String
    /// The shape of the scores: `[B, C, H, W]` for softmax, `[B, H, W]` for the binary losses.
    package var shape: [Int]
    /// The loss and its options.
    package var options: LossOptions

    /// A workload with every field given.
    ///
    /// - Parameters:
    ///   - shape: positive dimensions; `[B, C, ...]` with `C ≤ 255` for softmax (labels are
    ///     `UInt8`), `[B, ...]` for hinge and sigmoid.
    package init(name: String, summary: String, shape: [Int], options: LossOptions) {
        self.name = name
        self.summary = summary
        self.shape = shape
        self.options = options
    }

    /// The number of images `B`.
    package var batch: Int { shape[0] }
    /// The number of score channels: `C` for softmax, 1 for the binary losses.
    package var channels: Int { options.loss == .softmax ? shape[1] : 1 }
    /// The number of distinct label values: `C` for softmax, 2 for the binary losses.
    package var labelClasses: Int { options.loss == .softmax ? shape[1] : 2 }
    /// Pixels per image: the product of the spatial dimensions.
    package var pixelsPerImage: Int { shape.dropFirst(options.loss == .softmax ? 2 : 1).reduce(1, *) }
    /// The number of scores (and of gradient entries): `B · channels · pixelsPerImage`.
    package var scoreCount: Int { shape.reduce(1, *) }
    /// The number of labels: `B · pixelsPerImage`.
    package var labelCount: Int { batch * pixelsPerImage }
    /// The shape as the reports and the benchmark tags write it: `8x21x321x321`.
    package var dimensions: String { shape.map(String.init).joined(separator: "x") }

    /// The workload with its shape reduced to `size`, keeping its name, classes and options.
    ///
    /// `small` divides every spatial dimension by 4; `tiny` keeps at most 2 images and divides
    /// every spatial dimension by 32 (rounding up), for tests that must run in milliseconds.
    package func scaled(_ size: BenchSize) -> BenchWorkload {
        let leading = options.loss == .softmax ? 2 : 1
        var scaled = self
        switch size {
        case .standard:
            return self
        case .small:
            scaled.shape = shape.enumerated().map { axis, extent in axis < leading ? extent : (extent + 3) / 4 }
        case .tiny:
            scaled.shape = shape.enumerated().map { axis, extent in
                axis == 0 ? min(extent, 2) : axis < leading ? extent : (extent + 31) / 32
            }
        }
        return scaled
    }

    /// The standard workload called `name`, at standard size; `nil` for an unknown name.
    package static func named(_ name: String) -> BenchWorkload? {
        standard.first { $0.name == name }
    }

    /// The standard workloads, in the order reports list them.
    ///
    /// - `voc`, `voc-per-image`: Pascal VOC batch, 8 × 21 × 321 × 321, present classes.
    /// - `cityscapes`, `cityscapes-per-image`: 2 × 19 × 512 × 1024, present classes.
    /// - `ade20k`, `ade20k-per-image`: ADE20K-like, 4 × 150 × 128 × 128, all classes.
    /// - `hinge`, `hinge-per-batch`: binary Lovász hinge on 8 × 321 × 321 logits.
    package static let standard: [BenchWorkload] = [
        BenchWorkload(
            name: "voc", summary: "Pascal VOC batch: softmax, 8x21x321x321, present classes, per batch",
            shape: [8, 21, 321, 321], options: .softmax()),
        BenchWorkload(
            name: "voc-per-image", summary: "Pascal VOC batch: softmax, 8x21x321x321, present classes, per image",
            shape: [8, 21, 321, 321], options: .softmax(perImage: true)),
        BenchWorkload(
            name: "cityscapes", summary: "Cityscapes batch: softmax, 2x19x512x1024, present classes, per batch",
            shape: [2, 19, 512, 1024], options: .softmax()),
        BenchWorkload(
            name: "cityscapes-per-image",
            summary: "Cityscapes batch: softmax, 2x19x512x1024, present classes, per image",
            shape: [2, 19, 512, 1024], options: .softmax(perImage: true)),
        BenchWorkload(
            name: "ade20k", summary: "ADE20K-like batch: softmax, 4x150x128x128, all classes, per batch",
            shape: [4, 150, 128, 128], options: .softmax(classes: .all)),
        BenchWorkload(
            name: "ade20k-per-image", summary: "ADE20K-like batch: softmax, 4x150x128x128, all classes, per image",
            shape: [4, 150, 128, 128], options: .softmax(classes: .all, perImage: true)),
        BenchWorkload(
            name: "hinge", summary: "binary Lovasz hinge: 8x321x321 logits, per image",
            shape: [8, 321, 321], options: .hinge(perImage: true)),
        BenchWorkload(
            name: "hinge-per-batch", summary: "binary Lovasz hinge: 8x321x321 logits, per batch",
            shape: [8, 321, 321], options: .hinge(perImage: false)),
    ]
}

/// How large the standard workloads are made.
package enum BenchSize: String, Sendable, CaseIterable, Hashable {
    /// The published shapes (VOC 8 × 21 × 321 × 321 and so on).
    case standard
    /// Spatial dimensions divided by 4: quick comparisons on a busy machine.
    case small
    /// At most 2 images and spatial dimensions divided by 32: tests.
    case tiny
}
