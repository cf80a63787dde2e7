/// The element types a `.npy` file can hold that this package reads.
public enum NumPyScalarType: String, Sendable, Hashable, CaseIterable {
    case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64

    /// The size of one element in bytes (1, 2, 4 or 8).
    public var byteCount: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16, .float16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// Whether the type is a signed or unsigned integer (not `bool`).
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return true
        case .bool, .float16, .float32, .float64: return false
        }
    }

    /// Whether the type is a binary floating-point type.
    public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

    /// NumPy's kind character: `b` (bool), `i` (signed), `u` (unsigned) or `f` (float).
    var kind: Character {
        switch self {
        case .bool: return "b"
        case .int8, .int16, .int32, .int64: return "i"
        case .uint8, .uint16, .uint32, .uint64: return "u"
        case .float16, .float32, .float64: return "f"
        }
    }

    init?(kind: Character, byteCount: Int) {
        guard let type = Self.allCases.first(where: { $0.kind == kind && $0.byteCount == byteCount }) else {
            return nil
        }
        self = type
    }
}

/// The byte order of the elements of a `.npy` file.
public enum NumPyByteOrder: Sendable, Hashable {
    /// Least significant byte first (`<`, what NumPy writes on x86 and ARM).
    case littleEndian
    /// Most significant byte first (`>`).
    case bigEndian
    /// One-byte types (`|`), for which the order does not matter.
    case notApplicable

    /// The order of this machine.
    static var host: NumPyByteOrder { 1.littleEndian == 1 ? .littleEndian : .bigEndian }
}

/// A `.npy` dtype: the element type and its byte order, as in the header's `descr`.
public struct NumPyDType: Sendable, Hashable, CustomStringConvertible {
    /// The element type.
    public var scalarType: NumPyScalarType
    /// The byte order; ``NumPyByteOrder/notApplicable`` exactly for one-byte types.
    public var byteOrder: NumPyByteOrder

    /// A dtype; the byte order of a one-byte type is always recorded as not applicable.
    public init(_ scalarType: NumPyScalarType, byteOrder: NumPyByteOrder) {
        self.scalarType = scalarType
        self.byteOrder = scalarType.byteCount == 1 ? .notApplicable : byteOrder
    }

    /// The `descr` string NumPy writes for this dtype, for example `<f4` or `|u1`.
    public var descr: String {
        let order: String
        switch byteOrder {
        case .littleEndian: order = "<"
        case .bigEndian: order = ">"
        case .notApplicable: order = "|"
        }
        return order + String(scalarType.kind) + String(scalarType.byteCount)
    }

    /// NumPy's name of the element type, for example `float32`.
    public var description: String { scalarType.rawValue }

    /// Parses a `descr` string: an optional byte order (`<`, `>`, `|` or `=`; `|`, `=` and
    /// none mean this machine's order), a kind and a size.
    ///
    /// - Throws: ``NumPyError/unsupportedDType(_:)`` naming the dtype for object, string,
    ///   complex, date and void types, ``NumPyError/malformedHeader(_:)`` for text that is
    ///   not a dtype at all.
    init(descr: String) throws(NumPyError) {
        var rest = Substring(descr)
        var order = NumPyByteOrder.host
        switch rest.first {
        case "<": order = .littleEndian; rest.removeFirst()
        case ">": order = .bigEndian; rest.removeFirst()
        case "|", "=": rest.removeFirst()
        default: break
        }
        guard let kind = rest.first else { throw .malformedHeader("the descr '\(descr)' names no type") }
        let sizeText = rest.dropFirst()
        let size = sizeText.isEmpty ? nil : Int(sizeText)
        if kind == "?" && sizeText.isEmpty {
            self.init(.bool, byteOrder: order)
            return
        }
        if let size, let type = NumPyScalarType(kind: kind, byteCount: size) {
            self.init(type, byteOrder: order)
            return
        }
        let known: [Character: String] = [
            "O": "object arrays (pickled Python objects)", "c": "complex numbers", "S": "byte strings",
            "a": "byte strings", "U": "Unicode strings", "V": "raw void records", "M": "datetimes",
            "m": "timedeltas", "f": "this float size", "i": "this integer size", "u": "this integer size",
            "b": "this bool size",
        ]
        if let what = known[kind] {
            throw .unsupportedDType("'\(descr)': \(what) cannot be read; use bool, (u)int8-64 or float16/32/64")
        }
        throw .malformedHeader("'\(descr)' is not a NumPy dtype")
    }
}
