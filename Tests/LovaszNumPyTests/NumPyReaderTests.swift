import Foundation
import LovaszNumPy
import LovaszTestSupport
import Testing

/// The name of a ``NumPyError`` case, for comparing errors whose payload is prose.
func numPyErrorCase(_ error: NumPyError) -> String {
    switch error {
    case .cannotRead: return "cannotRead"
    case .cannotWrite: return "cannotWrite"
    case .notNumPy: return "notNumPy"
    case .unsupportedVersion: return "unsupportedVersion"
    case .truncated: return "truncated"
    case .headerTooLong: return "headerTooLong"
    case .malformedHeader: return "malformedHeader"
    case .unsupportedDType: return "unsupportedDType"
    case .fortranOrder: return "fortranOrder"
    case .dataSizeMismatch: return "dataSizeMismatch"
    case .invalidShape: return "invalidShape"
    case .outOfMemory: return "outOfMemory"
    }
}

/// The elements as NumPy would print them: integers in decimal, bools as 0/1, floats as bits.
func numPyDecimalStrings(_ elements: NumPyElements) -> [String] {
    switch elements {
    case .float(let v): return v.map { "0x" + String($0.bitPattern, radix: 16) }
    case .bool(let v): return v.map { $0 ? "1" : "0" }
    case .int8(let v): return v.map { String($0) }
    case .int16(let v): return v.map { String($0) }
    case .int32(let v): return v.map { String($0) }
    case .int64(let v): return v.map { String($0) }
    case .uint8(let v): return v.map { String($0) }
    case .uint16(let v): return v.map { String($0) }
    case .uint32(let v): return v.map { String($0) }
    case .uint64(let v): return v.map { String($0) }
    }
}

/// Decodes `bytes` expecting a failure, and returns the error's case name.
func numPyDecodingFailure(_ bytes: [UInt8]) -> String? {
    do {
        _ = try NumPyArray(npyBytes: bytes)
        return nil
    } catch {
        #expect(!error.description.contains("\n"), "the description is one line")
        #expect(!error.description.isEmpty)
        return numPyErrorCase(error)
    }
}

@Suite("NumPy .npy reader")
struct NumPyReaderTests {
    @Test("files written by NumPy decode to NumPy's values", arguments: NumPyRealFiles.accepted)
    func realNumPyFile(_ file: NumPyRealFiles.Accepted) throws {
        let array = try NumPyArray(npyBytes: file.bytes)
        #expect(array.shape == file.shape)
        #expect(array.dtype.description == file.dtypeName)
        #expect(array.dtype.descr == file.descr)
        #expect(array.count == file.shape.reduce(1, *))
        switch file.values {
        case .integers(let expected):
            #expect(numPyDecimalStrings(array.elements) == expected)
        case .float32Bits(let expected):
            let floats = try #require(array.floats)
            #expect(floats.map(\.bitPattern) == expected)
        }
    }

    @Test("files NumPy writes for unsupported arrays are refused", arguments: NumPyRealFiles.rejected)
    func realNumPyRejected(_ file: NumPyRealFiles.Rejected) {
        #expect(numPyDecodingFailure(file.bytes) == file.expectedError)
    }

    @Test("integer and bool files keep their type")
    func integerTypesKept() throws {
        let cases: [([UInt8], (NumPyElements) -> Bool)] = [
            (NumPyFixtures.integers([Int8.min, 3], shape: [2]), { if case .int8([.min, 3]) = $0 { true } else { false } }),
            (NumPyFixtures.integers([UInt16.max], shape: [1]), { if case .uint16([.max]) = $0 { true } else { false } }),
            (NumPyFixtures.integers([Int32.min], shape: [1], bigEndian: true), { if case .int32([.min]) = $0 { true } else { false } }),
            (NumPyFixtures.integers([UInt64.max, 0], shape: [2]), { if case .uint64([.max, 0]) = $0 { true } else { false } }),
            (NumPyFixtures.booleans([true, false], shape: [2]), { if case .bool([true, false]) = $0 { true } else { false } }),
        ]
        for (bytes, matches) in cases {
            #expect(matches(try NumPyArray(npyBytes: bytes).elements))
        }
    }

    static let headerSpellings: [String] = [
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }",
        "{'shape': (2, 3), 'descr': '<i2', 'fortran_order': False}",
        "{'fortran_order': False, 'shape': (2,3,), 'descr': '<i2',}",
        "{ \"descr\" : \"<i2\" , \"fortran_order\" : False , \"shape\" : ( 2 , 3 ) , }",
        "{'descr':'<i2','fortran_order':False,'shape':(2L, 3L)}",
        "{'descr': '<i2',\n 'fortran_order': False,\n 'shape': (2, 3)}\n\n",
        "\t{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}   ",
        "{'descr': 'i2', 'fortran_order': False, 'shape': (2, 3)}",
        "{'descr': '=i2', 'fortran_order': False, 'shape': ((2), 3)}",
    ]

    @Test("the header dictionary is read in any order and spacing", arguments: headerSpellings, [UInt8(1), 2, 3])
    func headerSpelling(_ header: String, version: UInt8) throws {
        let values: [Int16] = [1, -2, 300, -32768, 32767, 0]
        let bytes = NumPyFixtures.file(header: header, data: NumPyFixtures.bytes(values), version: version, pad: false)
        let array = try NumPyArray(npyBytes: bytes)
        #expect(array.shape == [2, 3])
        #expect(array.elements == .int16(values))
        #expect(array.dtype == NumPyDType(.int16, byteOrder: .littleEndian))
    }

    static let malformedHeaders: [(header: String, error: String)] = [
        ("{'descr': '<f4', 'fortran_order': False}", "malformedHeader"),
        ("{'descr': '<f4', 'shape': (1,)}", "malformedHeader"),
        ("{'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': 1}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': 'xyz', 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '', 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "malformedHeader"),
        ("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (+,)}", "malformedHeader"),
        ("('descr', '<f4')", "malformedHeader"),
        ("", "malformedHeader"),
        ("{1: '<f4', 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
        ("{'descr': '<f4', 'fortran_order': True, 'shape': (1,)}", "fortranOrder"),
        ("{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
        ("{'descr': '<f3', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
        ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
    ]

    @Test("malformed headers are refused with a typed error", arguments: malformedHeaders)
    func malformedHeader(_ header: String, error: String) {
        let bytes = NumPyFixtures.file(header: header, data: [0, 0, 0, 0], pad: false)
        #expect(numPyDecodingFailure(bytes) == error)
    }

    @Test("nesting a thousand levels deep is refused without exhausting the stack")
    func deepNesting() {
        let shape = String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000)
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape)}"
        #expect(numPyDecodingFailure(NumPyFixtures.file(header: header, data: [])) == "malformedHeader")
    }

    @Test("preamble errors: magic, version, header length")
    func preamble() {
        let good = NumPyFixtures.float32([1, 2], shape: [2])
        var badMagic = good
        badMagic[1] = UInt8(ascii: "n")
        #expect(numPyDecodingFailure(badMagic) == "notNumPy")
        #expect(numPyDecodingFailure(Array("PK\u{3}\u{4} a zip file, not npy".utf8)) == "notNumPy")
        #expect(numPyDecodingFailure([]) == "truncated")
        for (major, minor) in [(UInt8(0), UInt8(0)), (1, 1), (4, 0), (255, 255)] {
            var bytes = good
            bytes[6] = major
            bytes[7] = minor
            #expect(numPyDecodingFailure(bytes) == "unsupportedVersion")
        }
        // Version 2.0 with a 4 GiB header length, and one just over the limit.
        var huge = NumPyFixtures.file(header: NumPyFixtures.header(descr: "<f4", shape: [0]), data: [], version: 2)
        huge.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(numPyDecodingFailure(huge) == "headerTooLong")
        let limit = NumPyArray.maximumHeaderLength + 1
        huge.replaceSubrange(8..<12, with: NumPyFixtures.bytes([UInt32(limit)]))
        #expect(numPyDecodingFailure(huge) == "headerTooLong")
        // A header length pointing past the end of the file.
        var long = good
        long.replaceSubrange(8..<10, with: [0xF0, 0x00])
        #expect(numPyDecodingFailure(long) == "truncated")
    }

    @Test("the data must hold exactly the shape's elements")
    func dataLength() throws {
        let header = NumPyFixtures.header(descr: "<f4", shape: [2, 3])
        let data = NumPyFixtures.bytes([UInt32](repeating: 0x3F80_0000, count: 6))
        #expect(try NumPyArray(npyBytes: NumPyFixtures.file(header: header, data: data)).count == 6)
        #expect(numPyDecodingFailure(NumPyFixtures.file(header: header, data: Array(data.dropLast()))) == "dataSizeMismatch")
        #expect(numPyDecodingFailure(NumPyFixtures.file(header: header, data: data + [0])) == "dataSizeMismatch")
        #expect(numPyDecodingFailure(NumPyFixtures.file(header: header, data: data + data)) == "dataSizeMismatch")
        let zeroD = NumPyFixtures.header(descr: "<f8", shape: [])
        #expect(numPyDecodingFailure(NumPyFixtures.file(header: zeroD, data: [])) == "dataSizeMismatch")
        do {
            _ = try NumPyArray(npyBytes: NumPyFixtures.file(header: header, data: Array(data.prefix(20))))
            Issue.record("a short file was accepted")
        } catch {
            #expect(error == .dataSizeMismatch(shape: [2, 3], dtype: "float32", expectedBytes: 24, actualBytes: 20))
            #expect(error.description.contains("[2, 3]") && error.description.contains("truncated"))
        }
    }

    @Test("every float16 bit pattern converts exactly")
    func float16Exhaustive() throws {
        let bits = (0...UInt16.max).map { $0 }
        let array = try NumPyArray(npyBytes: NumPyFixtures.file(
            header: NumPyFixtures.header(descr: ">f2", shape: [bits.count]),
            data: NumPyFixtures.bytes(bits, bigEndian: true)))
        let floats = try #require(array.floats)
        var mismatches = 0
        for (b, value) in zip(bits, floats) {
            let expected = NumPyFixtures.halfValue(bits: b)
            if expected.isNaN {
                if !value.isNaN { mismatches += 1 }
            } else if Double(value) != expected || value.sign != (b & 0x8000 != 0 ? .minus : .plus) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("files are read from disk; missing files and directories are refused")
    func readingFiles() throws {
        let directory = try NumPyFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try NumPyFixtures.write(NumPyFixtures.float32([0.25, -4], shape: [1, 2]), named: "a.npy", in: directory)
        let array = try NumPyArray(contentsOfFile: path)
        #expect(array.shape == [1, 2] && array.floats == [0.25, -4])

        let missing = directory.appendingPathComponent("missing.npy").path
        #expect(throws: NumPyError.cannotRead(path: missing, reason: "No such file or directory")) {
            try NumPyArray(contentsOfFile: missing)
        }
        #expect(throws: NumPyError.cannotRead(path: directory.path, reason: "it is a directory")) {
            try NumPyArray(contentsOfFile: directory.path)
        }
    }
}
