#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// xoshiro256** (Blackman, Vigna 2018) and the draws the benchmark workloads and the demos
/// need, so that a seed gives the same inputs, images and weights on every platform and
/// toolchain. Every draw is derived from ``next()`` with explicit arithmetic (the standard
/// library's `random(in:using:)` does not fix its algorithm). Not for cryptography.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Double?

    /// Stream `stream` of `seed`; equal arguments give equal sequences, different streams are
    /// independent.
    ///
    /// The state is four outputs of SplitMix64 (Steele, Lea, Flood 2014), the seeding the
    /// xoshiro authors recommend. (The loss library's `SplitMix64` is not public, and this
    /// module is also compiled by the Benchmarks/ package against the public API only.)
    package init(seed: UInt64, stream: UInt64 = 0) {
        var state = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        func splitMix() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform value in `[0, 1)` with 53 random bits.
    package mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform value in `range`.
    package mutating func uniform(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// A uniform integer in `0..<bound`, exactly: Lemire's multiply-shift with rejection
    /// (Lemire 2019), so no value is more likely than another.
    ///
    /// - Precondition: `bound ≥ 1`.
    package mutating func below(_ bound: Int) -> Int {
        precondition(bound >= 1, "empty range")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range  // 2⁶⁴ mod bound
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// Two independent N(0, 1) values (Box-Muller in Double, on the open interval (0, 1)).
    package mutating func normalPair() -> (Double, Double) {
        let u1 = (Double(next() >> 11) + 0.5) * 0x1p-53
        let u2 = (Double(next() >> 11) + 0.5) * 0x1p-53
        let radius = (-2 * log(u1)).squareRoot()
        return (radius * cos(2 * .pi * u2), radius * sin(2 * .pi * u2))
    }

    /// One N(0, 1) value; the second value of each pair is kept for the next call.
    package mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        let (first, second) = normalPair()
        spareNormal = second
        return first
    }

    /// Fills `buffer` with independent N(0, 1) samples, two per ``normalPair()``.
    package mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>) {
        var index = 0
        while index < buffer.count {
            let (first, second) = normalPair()
            buffer[index] = Float(first)
            if index + 1 < buffer.count { buffer[index + 1] = Float(second) }
            index += 2
        }
    }
}
