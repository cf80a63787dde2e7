/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator whose sequence is fixed by
/// its seed on every platform and toolchain.
///
/// Used for reproducible shuffles (``Equibatch``) and the tests' random problems; visible to
/// the package's other modules, not part of the public API. Not for cryptography.
package struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    /// A generator whose sequence is determined by `seed` (any value, 0 included).
    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A Fisher-Yates shuffle whose result depends only on the seed (unlike the standard
    /// library's `shuffle(using:)`, whose algorithm is not specified).
    package mutating func shuffle<Element>(_ array: inout [Element]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            array.swapAt(i, j)
        }
    }
}
