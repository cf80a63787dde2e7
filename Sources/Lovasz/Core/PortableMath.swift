/// Float functions computed by the same sequence of correctly rounded IEEE operations on the
/// CPU path and in the OpenCL kernels (`Kernels/lovasz_common.cl`, `lovasz_exp` and friends).
///
/// The two paths must produce bit-identical errors so that they sort pixels into the same
/// total order and their gradients agree element by element, not only their losses. Library
/// `exp` differs between platforms by an ulp or more, so it is not used; every step below
/// is an addition, subtraction, multiplication or division of floats (no fused multiply-add),
/// and results below the smallest normal float are flushed to zero on both paths, so a
/// device that flushes subnormals gives the same numbers as one that keeps them.
enum PortableMath {
    static let smallestNormal: Float = .leastNormalMagnitude

    /// `e^x` for `x ≤ 0`, within 2 ulp of the true value; 0 below -87 (and for subnormal results).
    ///
    /// Written without branches (selects only) so that loops over it vectorize; the values
    /// are those of the straightforward form `x < -87 ? 0 : flush(y · 2^n)`. The method and
    /// constants are Cephes' single-precision `expf` (Stephen L. Moshier): n = round(x·log2 e),
    /// r = x − n·ln 2 with ln 2 split into 0.693359375 + (−2.12194440e-4) so that r is exact,
    /// and a degree-5 minimax polynomial for (e^r − 1 − r)/r²; the kernels name the same
    /// constants (`EXP_*` in `Kernels/lovasz_common.cl`).
    @inline(__always)
    static func expNonPositive(_ x: Float) -> Float {
        let inRange = x >= -87
        let clamped: Float = inRange ? x : -87
        let shifter: Float = 12582912  // 1.5 · 2^23: adding it rounds to an integer, ties to even
        let n = (clamped * 1.44269504) + shifter - shifter
        let r = (clamped - n * 0.693359375) - n * -2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * r * r + r + 1
        // n + 127 is an integer in 1...127; adding 2^23 puts it in the low mantissa bits.
        let biased = (n + 8388735).bitPattern &- 0x4B00_0000
        let scale = Float(bitPattern: biased << 23)
        let value = flushSubnormal(y * scale)
        return inRange ? value : 0
    }

    /// `x`, or zero when `|x|` is below the smallest normal float.
    @inline(__always)
    static func flushSubnormal(_ x: Float) -> Float {
        Float(bitPattern: x.bitPattern & 0x7FFF_FFFF) < smallestNormal ? 0 : x
    }

    /// The logistic sigmoid `1 / (1 + e^-x)`, evaluated without overflow for any finite `x`.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        if x >= 0 {
            return flushSubnormal(1 / (1 + expNonPositive(-x)))
        }
        let e = expNonPositive(x)
        return flushSubnormal(e / (1 + e))
    }

    /// Whether `x` is NaN or infinite, tested on its bits (exponent all ones).
    @inline(__always)
    static func isNonFinite(bits: UInt32) -> Bool {
        bits & 0x7F80_0000 == 0x7F80_0000
    }
}
