import Dispatch
import Foundation
import LovaszNumPy
import LovaszTestSupport
import Testing

/// Files read through ``NumPyFile``: prefixes, trailing bytes, endless FIFOs and huge sparse
/// files (issue 10, item 3). FIFOs and sparse files are made in a temporary folder.
@Suite("NumPy .npy files: endless and oversized inputs")
struct NumPyFileTests {
    static let valid = NumPyFixtures.float32([1, 2, 3, 4], shape: [2, 2])

    @Test("every proper prefix of a file on disk is refused, and so are trailing bytes")
    func prefixesAndTrailingBytes() throws {
        let directory = try NumPyFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for length in 0..<Self.valid.count {
            let path = try NumPyFixtures.write(Array(Self.valid.prefix(length)), named: "p\(length).npy", in: directory)
            #expect(throws: NumPyError.self, "prefix of \(length) bytes") { _ = try NumPyArray(contentsOfFile: path) }
        }
        let path = try NumPyFixtures.write(Self.valid + [0, 0, 0, 0], named: "long.npy", in: directory)
        // Refused when opened, before any data is read.
        #expect(throws: NumPyError.dataSizeMismatch(shape: [2, 2], dtype: "float32", expectedBytes: 16, actualBytes: 20)) {
            _ = try NumPyFile(path: path)
        }
        let whole = try NumPyArray(contentsOfFile: try NumPyFixtures.write(Self.valid, named: "ok.npy", in: directory))
        #expect(whole.floats == [1, 2, 3, 4])
    }

    /// A FIFO fed by a writer that never stops: after a valid file (its bytes), or zeros only.
    private func readFromEndlessFIFO(prefix: [UInt8]) throws -> Result<NumPyArray, NumPyError> {
        signal(SIGPIPE, SIG_IGN)  // the writer learns of the closed FIFO through EPIPE
        let directory = try NumPyFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("endless.npy").path
        #expect(mkfifo(path, 0o600) == 0)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { done.signal() }
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var chunk = prefix
            chunk += [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
                if n < 0 { return }  // EPIPE: the reader is gone
                chunk = [UInt8](repeating: 0, count: 1 << 16)
            }
        }
        let result: Result<NumPyArray, NumPyError>
        do throws(NumPyError) {
            result = .success(try NumPyArray(contentsOfFile: path))
        } catch {
            result = .failure(error)
        }
        done.wait()
        return result
    }

    @Test("an endless FIFO of zeros fails at the magic string")
    func endlessZeros() throws {
        #expect(try readFromEndlessFIFO(prefix: []) == .failure(.notNumPy))
    }

    @Test("an endless FIFO after a valid file: the declared data and nothing more")
    func endlessAfterValid() throws {
        let result = try readFromEndlessFIFO(prefix: Self.valid)
        #expect((try? result.get())?.floats == [1, 2, 3, 4])
    }

    @Test("/dev/zero and /dev/urandom fail at the magic string (read only)", arguments: ["/dev/zero", "/dev/urandom"])
    func devices(path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else { return }
        #expect(throws: NumPyError.notNumPy) { _ = try NumPyArray(contentsOfFile: path) }
    }

    /// A header declaring 2^31 float32 values (8 GiB), in a sparse file: consistent, it opens
    /// without reading or allocating; 4 GiB short, it is refused at once.
    @Test("a huge sparse file is checked against its size before anything is allocated")
    func sparse() throws {
        let directory = try NumPyFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let header = NumPyFixtures.file(header: NumPyFixtures.header(descr: "<f4", shape: [1 << 31]), data: [])
        for (name, size) in [("consistent.npy", header.count + (1 << 33)), ("short.npy", header.count + (1 << 32))] {
            let path = try NumPyFixtures.write(header, named: name, in: directory)
            guard truncate(path, off_t(size)) == 0 else { return }  // no sparse files here
            if name == "consistent.npy" {
                let file = try NumPyFile(path: path)
                #expect(file.dataBytes == 1 << 33 && file.shape == [1 << 31])
            } else {
                #expect(throws: NumPyError.dataSizeMismatch(
                    shape: [1 << 31], dtype: "float32", expectedBytes: 1 << 33, actualBytes: 1 << 32)) {
                    _ = try NumPyFile(path: path)
                }
            }
            unlink(path)
        }
    }
}
