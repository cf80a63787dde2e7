import Foundation
import LovaszNumPy
import LovaszTestSupport
import Testing

@Suite("NumPy .npy round trips")
struct NumPyRoundTripTests {
    static let shapes: [[Int]] = [[], [1], [7], [2, 3], [0], [2, 0, 3], [1, 2, 1, 3, 2]]

    /// Random integers of `T` covering its whole range, extremes included.
    static func integers<T: FixedWidthInteger>(_ count: Int, _ generator: inout NumPyFixtures.SeededGenerator) -> [T] {
        (0..<count).map { i in
            switch i % 5 {
            case 0: return T.min
            case 1: return T.max
            default: return T(truncatingIfNeeded: generator.next())
            }
        }
    }

    @Test("integer dtypes in both byte orders and every version", arguments: shapes, [false, true])
    func integerRoundTrip(shape: [Int], bigEndian: Bool) throws {
        var generator = NumPyFixtures.SeededGenerator(seed: UInt64(shape.count * 2 + (bigEndian ? 1 : 0)))
        let count = shape.reduce(1, *)
        try check(Self.integers(count, &generator) as [Int8], shape: shape, bigEndian: bigEndian) { if case .int8(let v) = $0 { v } else { nil } }
        try check(Self.integers(count, &generator) as [Int16], shape: shape, bigEndian: bigEndian) { if case .int16(let v) = $0 { v } else { nil } }
        try check(Self.integers(count, &generator) as [Int32], shape: shape, bigEndian: bigEndian) { if case .int32(let v) = $0 { v } else { nil } }
        try check(Self.integers(count, &generator) as [Int64], shape: shape, bigEndian: bigEndian) { if case .int64(let v) = $0 { v } else { nil } }
        try check(Self.integers(count, &generator) as [UInt8], shape: shape, bigEndian: bigEndian) { if case .uint8(let v) = $0 { v } else { nil } }
        try check(Self.integers(count, &generator) as [UInt16], shape: shape, bigEndian: bigEndian) { if case .uint16(let v) = $0 { v } else { nil } }
        try check(Self.integers(count, &generator) as [UInt32], shape: shape, bigEndian: bigEndian) { if case .uint32(let v) = $0 { v } else { nil } }
        try check(Self.integers(count, &generator) as [UInt64], shape: shape, bigEndian: bigEndian) { if case .uint64(let v) = $0 { v } else { nil } }
    }

    private func check<T: FixedWidthInteger>(
        _ values: [T], shape: [Int], bigEndian: Bool, extract: (NumPyElements) -> [T]?
    ) throws {
        for version: UInt8 in [1, 2, 3] {
            let width = T.bitWidth / 8
            let descr = (width == 1 ? "|" : bigEndian ? ">" : "<") + (T.isSigned ? "i" : "u") + String(width)
            let bytes = NumPyFixtures.file(
                header: NumPyFixtures.header(descr: descr, shape: shape),
                data: NumPyFixtures.bytes(values, bigEndian: bigEndian), version: version)
            let array = try NumPyArray(npyBytes: bytes)
            #expect(array.shape == shape)
            #expect(array.dtype.descr == descr)
            #expect(extract(array.elements) == values, "\(descr) version \(version)")
        }
    }

    @Test("bool round trip", arguments: shapes)
    func boolRoundTrip(shape: [Int]) throws {
        var generator = NumPyFixtures.SeededGenerator(seed: 99)
        let values = (0..<shape.reduce(1, *)).map { _ in Bool.random(using: &generator) }
        let array = try NumPyArray(npyBytes: NumPyFixtures.booleans(values, shape: shape))
        #expect(array.shape == shape && array.elements == .bool(values))
    }

    @Test("float16, float32 and float64 are read as Float", arguments: shapes, [false, true])
    func floatRoundTrip(shape: [Int], bigEndian: Bool) throws {
        var generator = NumPyFixtures.SeededGenerator(seed: 7 + UInt64(shape.count))
        let count = shape.reduce(1, *)
        let order = bigEndian ? ">" : "<"

        let halves = (0..<count).map { _ in UInt16(truncatingIfNeeded: generator.next()) }
        let f2 = try NumPyArray(npyBytes: NumPyFixtures.file(
            header: NumPyFixtures.header(descr: order + "f2", shape: shape),
            data: NumPyFixtures.bytes(halves, bigEndian: bigEndian)))
        let expected2 = halves.map { NumPyFixtures.halfValue(bits: $0) }
        let got2 = try #require(f2.floats)
        #expect(zip(got2, expected2).allSatisfy { $0.isNaN ? $1.isNaN : Double($0) == $1 })

        let singles = (0..<count).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())) }
        let f4 = try NumPyArray(npyBytes: NumPyFixtures.float32(singles, shape: shape, bigEndian: bigEndian))
        #expect(f4.floats?.map(\.bitPattern) == singles.map(\.bitPattern))
        #expect(f4.shape == shape)

        let doubles = (0..<count).map { _ in Double.random(in: -1e6...1e6, using: &generator) }
        let f8 = try NumPyArray(npyBytes: NumPyFixtures.file(
            header: NumPyFixtures.header(descr: order + "f8", shape: shape),
            data: NumPyFixtures.bytes(doubles.map(\.bitPattern), bigEndian: bigEndian)))
        #expect(f8.floats == doubles.map { Float($0) })
        #expect(f8.dtype == NumPyDType(.float64, byteOrder: bigEndian ? .bigEndian : .littleEndian))
    }

    @Test("the writer's files read back exactly", arguments: shapes)
    func writerRoundTrip(shape: [Int]) throws {
        var generator = NumPyFixtures.SeededGenerator(seed: 1234)
        let values = (0..<shape.reduce(1, *)).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())) }
        let array = try NumPyArray(npyBytes: try NumPyWriter.float32Bytes(values, shape: shape))
        #expect(array.shape == shape)
        #expect(array.dtype == NumPyDType(.float32, byteOrder: .littleEndian))
        #expect(array.floats?.map(\.bitPattern) == values.map(\.bitPattern))
    }
}
