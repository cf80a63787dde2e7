#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// xoshiro256** seeded through SplitMix64: a fast generator whose stream depends only on its
/// seed, so that benchmark inputs are the same everywhere.
struct SeededGenerator: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for stream `stream` of `seed`; different streams are independent.
    init(seed: UInt64, stream: UInt64 = 0) {
        var mix = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        func splitMix() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-shift; bias below 2⁻³² for the
    /// bounds used here).
    mutating func uniform(below bound: Int) -> Int {
        Int(((next() >> 32) &* UInt64(bound)) >> 32)
    }

    /// A uniform double in the open interval (0, 1).
    mutating func openUnit() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Fills `buffer` with independent N(0, 1) samples (Box-Muller, in Double).
    mutating func fillStandardNormal(_ buffer: UnsafeMutableBufferPointer<Float>) {
        var index = 0
        while index < buffer.count {
            let radius = (-2 * log(openUnit())).squareRoot()
            let angle = 2 * Double.pi * openUnit()
            buffer[index] = Float(radius * cos(angle))
            if index + 1 < buffer.count { buffer[index + 1] = Float(radius * sin(angle)) }
            index += 2
        }
    }
}
