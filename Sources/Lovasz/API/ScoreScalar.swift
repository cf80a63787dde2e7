/// The element type of the scores, and of the gradient when it is written in the scores' type.
public enum ScoreType: String, Sendable, Hashable, CaseIterable {
    /// IEEE 754 binary32 (`Float`).
    case float32
    /// IEEE 754 binary16 (`Float16`): 11 significant bits, largest finite 65504.
    case float16
    /// bfloat16 (``BFloat16``): the high 16 bits of a binary32, 8 significant bits.
    case bfloat16

    /// Bytes per element.
    public var byteCount: Int { self == .float32 ? 4 : 2 }
}

/// A floating-point type the engine takes scores in, and can write the gradient in.
///
/// Scores are widened to `Float` exactly (every value of these types is a `Float`), then the
/// computation runs in `Float` as for float32 scores. A gradient written in a narrower type is
/// rounded once, to nearest with ties to even, from the float32 gradient.
public protocol LovaszScalar: BitwiseCopyable, Sendable {
    /// The type's tag.
    static var scoreType: ScoreType { get }
    /// The value as a `Float` (exact).
    var floatValue: Float { get }
    /// `value` rounded to nearest, ties to even (NaN stays NaN, overflow gives infinity).
    init(rounding value: Float)
}

extension Float: LovaszScalar {
    public static var scoreType: ScoreType { .float32 }
    public var floatValue: Float { self }
    public init(rounding value: Float) { self = value }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: LovaszScalar {
    public static var scoreType: ScoreType { .float16 }
    public var floatValue: Float { Float(self) }
    public init(rounding value: Float) { self.init(value) }
}
#endif

/// A bfloat16 value: the high 16 bits of an IEEE 754 binary32 (sign, 8 exponent bits, 7
/// fraction bits), as machine-learning frameworks store it.
public struct BFloat16: LovaszScalar, Hashable, CustomStringConvertible {
    /// The 16 bits.
    public var bitPattern: UInt16

    /// The value with these bits.
    public init(bitPattern: UInt16) {
        self.bitPattern = bitPattern
    }

    /// `value` rounded to nearest, ties to even; a NaN stays a (quiet) NaN.
    public init(rounding value: Float) {
        let bits = value.bitPattern
        if value.isNaN {
            bitPattern = UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
        } else {
            let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
            bitPattern = UInt16(truncatingIfNeeded: rounded >> 16)
        }
    }

    public static var scoreType: ScoreType { .bfloat16 }

    /// The value as a `Float` (exact: the bits with 16 zero bits appended).
    public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    public var description: String { floatValue.description }
}
