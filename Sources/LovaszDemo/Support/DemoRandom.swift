import Foundation
import Lovasz

/// The seeded generator of every random draw in the demos (xoshiro256**, seeded through
/// SplitMix64), so that a seed gives the same images, features and weights on every run.
///
/// Not for cryptography.
public struct DemoRandom: RandomNumberGenerator, Sendable {
    private var core: Xoshiro256StarStar
    private var spareGaussian: Double?

    /// Creates a generator; equal seeds give equal sequences.
    public init(seed: UInt64) { core = Xoshiro256StarStar(seed: seed) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 { core.next() }

    /// A uniform value in `[0, 1)` with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform value in `range`.
    public mutating func uniform(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// A uniform integer in `0..<bound`, `bound ≥ 1`.
    public mutating func index(below bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// A standard normal value (Box-Muller; the second value of each pair is kept for the
    /// next call).
    public mutating func gaussian() -> Double {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        let u1 = max(uniform(), 0x1p-60), u2 = uniform()
        let radius = (-2 * log(u1)).squareRoot()
        spareGaussian = radius * sin(2 * .pi * u2)
        return radius * cos(2 * .pi * u2)
    }
}
