import Foundation
import LovaszNumPy
import LovaszTestSupport
import Testing

@Suite("NumPy .npy writer")
struct NumPyWriterTests {
    @Test("writes exactly the bytes numpy.save writes")
    func identicalToNumPy() throws {
        for saved in NumPyRealFiles.float32Saved {
            #expect(try NumPyWriter.float32Bytes(saved.values, shape: saved.shape) == saved.bytes, "shape \(saved.shape)")
        }
    }

    @Test("the data starts at a multiple of 64 bytes for any rank")
    func alignment() throws {
        for rank in 0...40 {
            let shape = [Int](repeating: 1, count: rank)
            let bytes = try NumPyWriter.float32Bytes([1], shape: shape)
            #expect((bytes.count - 4) % 64 == 0)
            #expect(bytes[bytes.count - 5] == 0x0A)
        }
    }

    @Test("bad shapes are refused")
    func badShapes() {
        #expect(throws: NumPyError.self) { try NumPyWriter.float32Bytes([1, 2, 3], shape: [2, 2]) }
        #expect(throws: NumPyError.self) { try NumPyWriter.float32Bytes([], shape: [-1, 0]) }
        #expect(throws: NumPyError.self) { try NumPyWriter.float32Bytes([], shape: [Int.max, 4]) }
        #expect(throws: NumPyError.self) { try NumPyWriter.float32Bytes([1], shape: [0]) }
    }

    @Test("writes a file, replaces an existing one, and leaves no temporary file")
    func writesAtomically() throws {
        let directory = try NumPyFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("g.npy").path
        try NumPyWriter.writeFloat32([1, 2, 3, 4, 5, 6], shape: [1, 2, 3], toFile: path)
        #expect(try NumPyArray(contentsOfFile: path).floats == [1, 2, 3, 4, 5, 6])
        try NumPyWriter.writeFloat32([-0.5], shape: [], toFile: path)
        let replaced = try NumPyArray(contentsOfFile: path)
        #expect(replaced.shape == [] && replaced.floats == [-0.5])
        #expect(try NumPyFixtures.contents(of: directory) == ["g.npy"])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let permissions = try #require(attributes[.posixPermissions] as? Int)
        #expect(permissions & 0o600 == 0o600, "the owner can read and write the file")
    }

    @Test("a failed write leaves nothing behind and keeps the old file")
    func failedWrite() throws {
        let directory = try NumPyFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missingDirectory = directory.appendingPathComponent("no/such/dir/g.npy").path
        #expect(throws: NumPyError.self) { try NumPyWriter.writeFloat32([1], shape: [1], toFile: missingDirectory) }

        let existing = directory.appendingPathComponent("keep.npy").path
        try NumPyWriter.writeFloat32([7], shape: [1], toFile: existing)
        #expect(throws: NumPyError.self) { try NumPyWriter.writeFloat32([1, 2], shape: [3], toFile: existing) }
        #expect(try NumPyArray(contentsOfFile: existing).floats == [7])

        // A directory in the way: the rename fails and the temporary file is removed.
        let blocked = directory.appendingPathComponent("blocked.npy")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(
            at: blocked.appendingPathComponent("child"), withIntermediateDirectories: false)
        do {
            try NumPyWriter.writeFloat32([1], shape: [1], toFile: blocked.path)
            Issue.record("writing over a non-empty directory succeeded")
        } catch {
            #expect(numPyErrorCase(error) == "cannotWrite")
            #expect(error.description.contains(blocked.path))
        }
        #expect(throws: NumPyError.self) { try NumPyWriter.writeFloat32([1], shape: [1], toFile: directory.path + "/") }
        #expect(try NumPyFixtures.contents(of: directory) == ["blocked.npy", "keep.npy"])
    }
}
