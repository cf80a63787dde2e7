/// The 64-bit sort keys shared by the CPU and OpenCL paths.
///
/// High word: the error's float bits mapped to an unsigned integer whose ascending order is
/// the float's descending order (-0 is folded into +0). Low word: the pixel's rank within its
/// group shifted left by one, and its foreground bit in bit 0. Ascending order of the packed
/// key is therefore "error descending, then pixel index ascending", a total order.
enum SortKey {
    /// The largest number of valid pixels one group may hold (the rank takes 31 bits).
    static let maxGroupPixels = 1 << 31 - 1

    /// The high word for an error: ascending in the key means descending in the error.
    @inline(__always)
    static func descending(_ error: Float) -> UInt32 {
        var bits = error.bitPattern
        if bits == 0x8000_0000 { bits = 0 }
        return bits ^ (((bits >> 31) &- 1) & 0x7FFF_FFFF)
    }

    /// The error a high word was made from (-0 comes back as +0).
    @inline(__always)
    static func error(fromDescending key: UInt32) -> Float {
        Float(bitPattern: key ^ (((key >> 31) &- 1) & 0x7FFF_FFFF))
    }

    /// The largest key of a positive error (the keys of errors ≤ 0, -0 and +0 included, are
    /// all larger). The hinge's loss terms `max(0, e)·g` and their gradients are zero for
    /// errors ≤ 0 and such keys sort after every positive one, so its sort can stop here.
    static let lastPositiveError: UInt64 = UInt64(descending(0)) << 32 - 1

    /// The packed key of one pixel.
    @inline(__always)
    static func pack(error: Float, rank: Int, foreground: Bool) -> UInt64 {
        UInt64(descending(error)) << 32 | UInt64(truncatingIfNeeded: rank) << 1 | (foreground ? 1 : 0)
    }

    @inline(__always) static func error(of key: UInt64) -> Float {
        error(fromDescending: UInt32(truncatingIfNeeded: key >> 32))
    }
    @inline(__always) static func rank(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key & 0xFFFF_FFFF) >> 1)
    }
    @inline(__always) static func isForeground(_ key: UInt64) -> Bool { key & 1 != 0 }
}
