import Lovasz

/// Hinge inputs of a confident network: most errors negative, where the hinge's sort stops.
package enum ConfidentHinge {
    /// Logits `±(margin + u)`, `u` uniform in [-1, 1), on the true side; about 3% exactly at `±1`
    /// (error 0) and `insideMargin` percent in [-2, 0.99) on the true side (errors in (0.01, 3]);
    /// about one pixel in eleven labelled 255 (to be ignored).
    package static func make(
        count: Int, margin: Float = 4, insideMargin: UInt64, seed: UInt64
    ) -> (scores: [Float], labels: [Int32]) {
        var random = SplitMix64(seed: seed)
        var scores = [Float](repeating: 0, count: count)
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let label: Int32 = random.below(11) == 0 ? 255 : Int32(random.below(2))
            let sign: Float = label == 1 ? 1 : -1
            let draw = UInt64(random.below(100))
            let magnitude: Float = draw < insideMargin ? random.uniform(-2, 0.99)
                : draw < insideMargin + 3 ? 1 : margin + random.uniform(-1, 1)
            scores[i] = sign * magnitude
            labels[i] = label
        }
        return (scores, labels)
    }
}
