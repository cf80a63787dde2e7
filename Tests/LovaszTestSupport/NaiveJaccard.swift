/// The Jaccard loss and its Lovász extension written straight from the paper, in Double.
///
/// Berman, Rannen Triki, Blaschko, "The Lovász-Softmax loss", CVPR 2018. Nothing here is
/// shared with the library: the extension is evaluated by recomputing the set function on every
/// prefix of the sorted errors (Eq. 8-9), `O(p²)`, so that the tests compare the library's
/// closed-form, integer-count Algorithm 1 against the definition.
public enum NaiveJaccard {
    /// The discrete Jaccard loss of a set of mispredicted pixels (paper Eq. 1-2).
    ///
    /// `Δ_J(M) = |M| / |F ∪ M|` where `F` is the set of foreground pixels (ground truth of the
    /// class) and `M` the mispredicted ones; `Δ_J(∅) = 0`.
    ///
    /// - Parameters:
    ///   - mispredicted: membership of each pixel in `M`.
    ///   - foreground: membership of each pixel in `F`; same length.
    public static func loss(mispredicted: [Bool], foreground: [Bool]) -> Double {
        precondition(mispredicted.count == foreground.count, "mask lengths differ")
        var inM = 0
        var inUnion = 0
        for (m, f) in zip(mispredicted, foreground) {
            if m { inM += 1 }
            if m || f { inUnion += 1 }
        }
        return inM == 0 ? 0 : Double(inM) / Double(inUnion)
    }

    /// The permutation sorting `errors` in decreasing order, ties by increasing index.
    public static func decreasingOrder(_ errors: [Double]) -> [Int] {
        Array(errors.indices).sorted { a, b in
            if errors[a] > errors[b] { return true }
            if errors[a] < errors[b] { return false }
            return a < b
        }
    }

    /// The Lovász extension of `Δ_J` at `errors`, and its gradient (paper Eq. 8-9).
    ///
    /// With `π` the decreasing order of the errors, `g_i = Δ_J({π_1..π_i}) - Δ_J({π_1..π_{i-1}})`
    /// (each prefix's loss recomputed by counting) and the value is `Σ_i m_{π_i} g_i`. The
    /// gradient with respect to `m_{π_i}` is `g_i`, returned in the order of `errors`.
    ///
    /// - Parameters:
    ///   - errors: one error per pixel.
    ///   - foreground: whether each pixel belongs to the class; same length.
    public static func lovaszExtension(
        errors: [Double], foreground: [Bool]
    ) -> (value: Double, gradient: [Double]) {
        precondition(errors.count == foreground.count, "errors and foreground differ in length")
        let order = decreasingOrder(errors)
        var prefix = [Bool](repeating: false, count: errors.count)
        var previous = 0.0
        var value = 0.0
        var gradient = [Double](repeating: 0, count: errors.count)
        for index in order {
            prefix[index] = true
            let current = loss(mispredicted: prefix, foreground: foreground)
            let g = current - previous
            gradient[index] = g
            value += errors[index] * g
            previous = current
        }
        return (value, gradient)
    }
}
