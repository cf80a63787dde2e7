package import Lovasz

/// Draws for the random test problems from the library's ``SplitMix64``, whose sequence is
/// fixed by its seed on every platform and toolchain, so the problems are reproducible.
///
/// The helpers below derive numbers from `next()` with explicit arithmetic rather than the
/// standard library's `random(in:using:)`, whose algorithm is not part of its contract.
extension SplitMix64 {
    /// A Double uniform in `[0, 1)`, with 53 random bits.
    package mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A Float uniform in `[lower, upper)` (rounded to the nearest float).
    package mutating func uniform(_ lower: Float, _ upper: Float) -> Float {
        let value = Float(Double(lower) + (Double(upper) - Double(lower)) * unit())
        return value < upper ? value : lower
    }

    /// An integer uniform in `0..<bound` (Lemire's multiply-shift; bias below 2^-40 for
    /// the small bounds of the tests).
    /// - Precondition: `bound > 0`.
    package mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "empty range")
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// `true` with probability `p`.
    package mutating func chance(_ p: Double) -> Bool {
        unit() < p
    }

    /// A uniformly chosen element.
    /// - Precondition: `elements` is not empty.
    package mutating func element<T>(of elements: [T]) -> T {
        elements[below(elements.count)]
    }
}
