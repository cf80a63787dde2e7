import LovaszNumPy
import LovaszTestSupport
import Testing

@Suite("NumPy .npy reader robustness")
struct NumPyRobustnessTests {
    /// Valid files to cut and mutate: every file NumPy wrote plus a few hand-made ones.
    static var validFiles: [[UInt8]] {
        NumPyRealFiles.accepted.map(\.bytes) + [
            NumPyFixtures.float32([1, 2, 3], shape: [3], version: 2),
            NumPyFixtures.integers([Int64](0..<4), shape: [2, 1, 2], bigEndian: true),
        ]
    }

    @Test("every proper prefix of a valid file is refused")
    func truncation() throws {
        var checked = 0
        for file in Self.validFiles {
            _ = try NumPyArray(npyBytes: file)
            for length in 0..<file.count {
                #expect(numPyDecodingFailure(Array(file.prefix(length))) != nil, "prefix of \(length) bytes")
                checked += 1
            }
        }
        #expect(checked > 3000)
    }

    @Test("thousands of random header mutations never trap")
    func mutations() {
        var generator = NumPyFixtures.SeededGenerator(seed: 0x5EED)
        let files = Self.validFiles
        let alphabet = Array("{}()[],:'\" 0123456789-+LTrueFalsNonedscrip_<>|=?fiub\n\t".utf8)
        var accepted = 0, refused = 0
        for _ in 0..<4000 {
            var bytes = files[Int.random(in: 0..<files.count, using: &generator)]
            let headerEnd = min(bytes.count, 10 + Int(bytes[8]) + Int(bytes[9]) << 8)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<max(headerEnd, 1), using: &generator)
                let byte = Bool.random(using: &generator)
                    ? alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
                    : UInt8.random(in: 0...255, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0 where position < bytes.count: bytes[position] = byte
                case 1: bytes.insert(byte, at: min(position, bytes.count))
                case 2 where position < bytes.count: bytes.remove(at: position)
                default:
                    if bytes.count > 10 { bytes[8 + position % 2] = byte }
                }
            }
            do {
                let array = try NumPyArray(npyBytes: bytes)
                #expect(array.count == array.shape.reduce(1, *))
                accepted += 1
            } catch {
                #expect(!error.description.contains("\n"))
                refused += 1
            }
        }
        #expect(accepted + refused == 4000)
        #expect(refused > 1000, "most mutations break the file")
    }
}
