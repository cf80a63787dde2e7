#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Lovasz

/// The library's xoshiro256** with independent streams and the draws the workloads need, so
/// that benchmark inputs are the same everywhere.
struct SeededGenerator: RandomNumberGenerator {
    private var core: Xoshiro256StarStar

    /// A generator for stream `stream` of `seed`; different streams are independent.
    init(seed: UInt64, stream: UInt64 = 0) {
        core = Xoshiro256StarStar(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
    }

    mutating func next() -> UInt64 { core.next() }

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
