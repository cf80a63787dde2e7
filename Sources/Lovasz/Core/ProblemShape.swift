/// The shape of a loss problem: `B` images, `C` score channels, `S` pixels per image.
///
/// Scores are `[B, C, ...]` for Lovász-Softmax and `[B, ...]` (or `[B, 1, ...]`) for the binary
/// losses, C-order; labels hold one value per pixel, `B·S` in all.
struct ProblemShape: Sendable, Hashable {
    let scoreShape: [Int]
    let batch: Int
    let channels: Int
    let spatial: Int
    let isSoftmax: Bool

    var pixelCount: Int { batch * spatial }
    var scoreCount: Int { batch * channels * spatial }

    init(scores shape: [Int], loss: LovaszLoss) throws(LovaszError) {
        guard let batch = shape.first else {
            throw .invalidShape("the scores have no dimensions; expected [B, C, ...]")
        }
        if shape.contains(where: { $0 < 0 }) {
            throw .invalidShape("negative dimension in \(shape.bracketed)")
        }
        if batch == 0 { throw .emptyInput("the batch dimension is 0") }
        var channels = 1
        var spatialDims = Array(shape.dropFirst())
        if loss == .softmax {
            guard shape.count >= 2 else {
                throw .invalidShape("softmax scores must be [B, C, ...]; got \(shape.bracketed)")
            }
            channels = shape[1]
            spatialDims.removeFirst()
            if channels == 0 { throw .emptyInput("the class dimension is 0") }
        }
        if let zero = spatialDims.firstIndex(of: 0) {
            throw .emptyInput("dimension \(zero + (loss == .softmax ? 2 : 1)) of the scores is 0")
        }
        var spatial = 1
        for d in spatialDims {
            let (product, overflow) = spatial.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidShape("the scores are too large") }
            spatial = product
        }
        let (perImage, o1) = spatial.multipliedReportingOverflow(by: channels)
        let (total, o2) = perImage.multipliedReportingOverflow(by: batch)
        guard !o1, !o2, total < Int(Int32.max) * 64 else { throw .invalidShape("the scores are too large") }
        self.scoreShape = shape
        self.batch = batch
        self.channels = channels
        self.spatial = spatial
        self.isSoftmax = loss == .softmax
    }

    /// The multi-index in the scores of a flat score index.
    func scorePosition(_ flat: Int) -> [Int] { Self.unravel(flat, in: scoreShape) }

    /// The multi-index of a flat pixel index `b·S + s` in labels shaped ``labelShape``.
    func labelPosition(_ flat: Int) -> [Int] { Self.unravel(flat, in: labelShape) }

    /// The shape labels are expected in: the scores' shape without the class axis for
    /// Lovász-Softmax, the scores' shape for the binary losses.
    var labelShape: [Int] {
        isSoftmax ? [batch] + scoreShape.dropFirst(2) : scoreShape
    }

    static func unravel(_ flat: Int, in shape: [Int]) -> [Int] {
        var position = [Int](repeating: 0, count: shape.count)
        var rest = flat
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            position[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return position
    }
}
