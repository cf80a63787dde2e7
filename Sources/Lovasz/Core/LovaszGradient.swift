/// One step of Algorithm 1 with exact integer counts.
///
/// Before the pixel at sorted rank `i`, `intersection` is the number of foreground pixels
/// not yet passed and `union` is `Σδ + (number of background pixels passed)`. The gradient
/// entry is `J[i] - J[i-1]` written without cancellation:
/// `1/union` for a foreground pixel, `intersection / (union·(union+1))` for a background one,
/// and `1` for the first pixel of a segment with no foreground at all.
@inline(__always)
func lovaszStep(isForeground: Bool, intersection: inout Int, union: inout Int) -> Double {
    if isForeground {
        let g = 1.0 / Double(union)
        intersection -= 1
        return g
    }
    let g = union == 0 ? 1.0 : Double(intersection) / (Double(union) * Double(union + 1))
    union += 1
    return g
}

/// The gradient of the Lovász extension of the Jaccard loss (Berman et al., Algorithm 1).
///
/// For ground truth sorted by decreasing error, `g[0] = J[0]` and `g[i] = J[i] - J[i-1]` with
/// `J[i] = 1 - (Σδ - cumsum(δ)[i]) / (Σδ + cumsum(1 - δ)[i])`.
///
/// - Parameter sortedForeground: whether each pixel, in decreasing order of error, belongs to
///   the class. Any length, including zero.
/// - Returns: `g`, one entry per pixel, each in `[0, 1]`, summing to `1` for a non-empty input.
///
/// The cumulative counts are exact integers, so there is no drift past 2^24 pixels; each
/// entry is computed from those counts with one rounding in Double, without the cancellation
/// of `J[i] - J[i-1]`.
public func lovaszGradient(sortedForeground: some Collection<Bool>) -> [Double] {
    var intersection = sortedForeground.reduce(0) { $0 + ($1 ? 1 : 0) }
    var union = intersection
    return sortedForeground.map {
        lovaszStep(isForeground: $0, intersection: &intersection, union: &union)
    }
}

/// The Lovász extension of the Jaccard loss for one class, and its gradient (Eq. 9, Alg. 1).
///
/// Errors are sorted by decreasing value, ties by increasing index (the total order used by
/// every backend of this package), and the loss is `Σ m_πi · g[i]`.
///
/// - Parameters:
///   - errors: the error `m_i ≥ 0` of each pixel (any finite values are accepted).
///   - foreground: whether each pixel belongs to the class; same length as `errors`.
/// - Returns: the loss and `∂loss/∂m`, un-permuted (in the order of `errors`).
/// - Precondition: `errors.count == foreground.count`.
public func lovaszExtension(errors: [Double], foreground: [Bool]) -> (loss: Double, gradient: [Double]) {
    precondition(errors.count == foreground.count, "errors and foreground differ in length")
    let order = errors.indices.sorted { a, b in
        errors[a] != errors[b] ? errors[a] > errors[b] : a < b
    }
    let g = lovaszGradient(sortedForeground: order.lazy.map { foreground[$0] })
    var gradient = [Double](repeating: 0, count: errors.count)
    var loss = 0.0
    for (rank, index) in order.enumerated() {
        gradient[index] = g[rank]
        loss += errors[index] * g[rank]
    }
    return (loss, gradient)
}
