import Dispatch
import Foundation
import LovaszTestSupport
import Testing

/// `lovasz loss` against special files, unwritable standard streams, endless and oversized
/// inputs and memory limits (issue 10). Special files are made in a temporary folder only.
@Suite("lovasz loss: special files, broken streams, huge inputs")
struct HardeningCLITests {
    typealias F = LossInputsFixture
    let runner = CommandRunner()

    /// A folder with the valid softmax inputs s.npy and y.npy.
    func folder() throws -> URL {
        let directory = try NumPyFixtures.temporaryDirectory()
        for (name, bytes) in F.valid { _ = try NumPyFixtures.write(bytes, named: name, in: directory) }
        return directory
    }

    /// `lovasz loss --scores s.npy --labels y.npy --grad-out <output>` in `directory`.
    func loss(_ directory: URL, gradOut output: String, extra: [String] = []) throws -> CommandRunner.Outcome {
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        return try runner.run(["loss", "--scores", path("s.npy"), "--labels", path("y.npy"), "--grad-out", output] + extra)
    }

    /// The gradient file a run writes into a regular file.
    func expectedGradient() throws -> [UInt8] {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try loss(directory, gradOut: directory.appendingPathComponent("g.npy").path)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        return try Array(Data(contentsOf: directory.appendingPathComponent("g.npy")))
    }

    /// Linux's device number for small major and minor numbers (glibc's `makedev`).
    static func device(major: UInt, minor: UInt) -> dev_t { dev_t(major << 8 | minor) }

    func fileType(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// Names in `directory` other than the inputs: no temporary file may be left.
    func leftovers(_ directory: URL, besides kept: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { !F.valid.keys.contains($0) && !kept.contains($0) }
    }

    @Test("a symbolic link stays, its target receives the gradient and keeps its permission bits")
    func symbolicLink() throws {
        let expected = try expectedGradient()
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = try NumPyFixtures.write([1, 2, 3], named: "target.npy", in: directory)
        chmod(target, 0o640)
        let link = directory.appendingPathComponent("link.npy").path
        #expect(symlink("target.npy", link) == 0)
        let outcome = try loss(directory, gradOut: link)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(fileType(link) == S_IFLNK)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: target))) == expected)
        var info = stat()
        #expect(stat(target, &info) == 0 && info.st_mode & 0o7777 == 0o640)
        // A dangling link: its target is created.
        let dangling = directory.appendingPathComponent("dangling.npy").path
        #expect(symlink("new.npy", dangling) == 0)
        #expect(try loss(directory, gradOut: dangling).status == 0)
        #expect(fileType(dangling) == S_IFLNK && fileType(directory.appendingPathComponent("new.npy").path) == S_IFREG)
        #expect(try leftovers(directory, besides: ["target.npy", "link.npy", "dangling.npy", "new.npy"]).isEmpty)
    }

    @Test("a FIFO is written through (never replaced); without a reader it fails at once")
    func fifo() throws {
        let expected = try expectedGradient()
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(path, 0o600) == 0)
        let refused = try loss(directory, gradOut: path)
        #expect(refused.status == 2 && refused.standardError.contains("no process reads the FIFO"), "\(refused.standardError)")
        #expect(fileType(path) == S_IFIFO)

        let received = LockedBytes()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { done.signal() }
            let fd = open(path, O_RDONLY)  // blocks until the command opens it for writing
            guard fd >= 0 else { return }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if n <= 0 { return }
                received.append(buffer[0..<n])
            }
        }
        // The command may open the FIFO before the reader: retry until the reader is there.
        var outcome = try loss(directory, gradOut: path)
        for _ in 0..<100 where outcome.status != 0 {
            usleep(20_000)
            outcome = try loss(directory, gradOut: path)
        }
        done.wait()
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(received.bytes == expected)
        #expect(fileType(path) == S_IFIFO)
        #expect(try leftovers(directory, besides: ["fifo"]).isEmpty)
    }

    @Test("as root: a character device node is written through, a block device node refused")
    func deviceNodes() throws {
        guard getuid() == 0 else { return }
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let null = directory.appendingPathComponent("null").path
        #expect(mknod(null, S_IFCHR | 0o666, Self.device(major: 1, minor: 3)) == 0)
        let outcome = try loss(directory, gradOut: null)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(fileType(null) == S_IFCHR)
        let block = directory.appendingPathComponent("block").path
        #expect(mknod(block, S_IFBLK | 0o600, Self.device(major: 7, minor: 250)) == 0)
        let refused = try loss(directory, gradOut: block)
        #expect(refused.status == 2 && refused.standardError.contains("block device"), "\(refused.standardError)")
        #expect(fileType(block) == S_IFBLK)
        #expect(try leftovers(directory, besides: ["null", "block"]).isEmpty)
    }

    @Test(
        "stderr closed or full: the run succeeds and writes its gradient",
        arguments: ["2>&-", "2>/dev/full"])
    func unwritableStandardError(redirection: String) throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try runner.runShell(
            "\"$LOVASZ\" loss --backend auto --scores s.npy --labels y.npy --grad-out g.npy \(redirection)", in: directory)
        #expect(outcome.status == 0 && !outcome.killedBySignal)
        #expect(outcome.standardOutput.contains("softmax loss"))
        #expect(fileType(directory.appendingPathComponent("g.npy").path) == S_IFREG)
    }

    @Test("stdout closed or full: exit 2, the result is not silently lost", arguments: [">&-", ">/dev/full"])
    func unwritableStandardOutput(redirection: String) throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try runner.runShell("\"$LOVASZ\" loss --scores s.npy --labels y.npy \(redirection)", in: directory)
        #expect(outcome.status == 2 && !outcome.killedBySignal)
        #expect(outcome.standardError.contains("cannot write the result to standard output"), "\(outcome.standardError)")
    }

    @Test("an endless FIFO of zeros as scores fails at the magic string")
    func endlessScores() throws {
        signal(SIGPIPE, SIG_IGN)
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("zeros.npy").path
        #expect(mkfifo(path, 0o600) == 0)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { done.signal() }
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let zeros = [UInt8](repeating: 0, count: 1 << 16)
            while zeros.withUnsafeBytes({ write(fd, $0.baseAddress!, $0.count) }) > 0 {}
        }
        let outcome = try runner.run(["loss", "--scores", path, "--labels", directory.appendingPathComponent("y.npy").path])
        done.wait()
        #expect(outcome.status == 2 && outcome.standardError.contains("not a NumPy .npy file"), "\(outcome.standardError)")
    }

    /// Sparse files declaring softmax scores [1, 2, pixels] (float32)
    /// and labels [1, pixels] (uint8); `shortBy` bytes are left out of the scores.
    func sparseInputs(pixels: Int, shortBy: Int = 0, labelPixels: Int? = nil) throws -> URL? {
        let directory = try NumPyFixtures.temporaryDirectory()
        let scores = NumPyFixtures.file(header: NumPyFixtures.header(descr: "<f4", shape: [1, 2, pixels]), data: [])
        let labels = NumPyFixtures.file(header: NumPyFixtures.header(descr: "|u1", shape: [1, labelPixels ?? pixels]), data: [])
        let s = try NumPyFixtures.write(scores, named: "s.npy", in: directory)
        let y = try NumPyFixtures.write(labels, named: "y.npy", in: directory)
        guard truncate(s, off_t(scores.count + 8 * pixels - shortBy)) == 0,
            truncate(y, off_t(labels.count + (labelPixels ?? pixels))) == 0
        else { return nil }
        return directory
    }

    @Test("oversized inputs: refused by their size or their shapes before any data is read")
    func oversizedRefusedEarly() throws {
        // 8 GiB of scores declared, 1 KiB missing: refused from the file's size.
        guard let short = try sparseInputs(pixels: 1 << 30, shortBy: 1024) else { return }
        defer { try? FileManager.default.removeItem(at: short) }
        let truncated = try runner.runShell("\"$LOVASZ\" loss --scores s.npy --labels y.npy", in: short)
        #expect(truncated.status == 2 && truncated.standardError.contains("truncated"), "\(truncated.standardError)")
        // Consistent 8 GiB scores, labels of another shape: the headers are compared first.
        guard let mismatched = try sparseInputs(pixels: 1 << 30, labelPixels: 5) else { return }
        defer { try? FileManager.default.removeItem(at: mismatched) }
        let shapes = try runner.runShell("\"$LOVASZ\" loss --scores s.npy --labels y.npy", in: mismatched)
        #expect(shapes.status == 2 && shapes.standardError.contains("shape"), "\(shapes.standardError)")
    }

    /// Under an address-space limit the binary starts with (`ulimit -v`), inputs too large
    /// for it end with status 2 and one line naming the memory, never with a signal.
    @Test(
        "out of memory under ulimit -v: status 2 and one line",
        arguments: [(pixels: 50_000_000, limitKiB: 300_000), (pixels: 1 << 30, limitKiB: 1_000_000)])
    func outOfMemory(pixels: Int, limitKiB: Int) throws {
        guard let directory = try sparseInputs(pixels: pixels) else { return }
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try runner.runShell(
            "ulimit -v \(limitKiB) && \"$LOVASZ\" loss --backend cpu --scores s.npy --labels y.npy --grad-out g.npy", in: directory)
        #expect(!outcome.killedBySignal)
        #expect(outcome.status == 2 && outcome.standardError.contains("out of memory"), "\(outcome.standardError)")
        #expect(outcome.standardError.split(separator: "\n").count == 1)
        #expect(fileType(directory.appendingPathComponent("g.npy").path) == 0)
    }

    /// The CPU path's threads are made once per process (``WorkerPool``), and a limit that
    /// keeps them from starting leaves the work on the calling thread: under every
    /// address-space limit, a call above the single-threaded size finishes, fails with status
    /// 2, or cannot even load (127) — it never hangs (libdispatch did, near 80 MB) and never
    /// dies of a signal.
    @Test("a call of 80 000 scores under a ladder of ulimit -v values ends, never hangs")
    func threadsUnderAddressLimits() throws {
        guard let directory = try sparseInputs(pixels: 40_000) else { return }
        defer { try? FileManager.default.removeItem(at: directory) }
        for limitKiB in stride(from: 60_000, through: 200_000, by: 5_000) {
            let outcome = try runner.runShell(
                "ulimit -v \(limitKiB) && exec timeout 30 \"$LOVASZ\" loss --backend cpu --scores s.npy --labels y.npy",
                in: directory)
            #expect(outcome.status != 124, "hung under ulimit -v \(limitKiB)")
            #expect([0, 2, 127].contains(outcome.status), "ulimit -v \(limitKiB): \(outcome.status) \(outcome.standardError)")
        }
    }

    @Test("--scores-are probabilities outside [0, 1]: status 2 naming the first position")
    func probabilities() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try runner.runShell(
            "\"$LOVASZ\" loss --loss sigmoid --scores b.npy --labels z.npy --scores-are probabilities", in: directory)
        #expect(outcome.status == 2 && outcome.standardError.contains("probability 2.0 at position [0, 0] is outside [0, 1]"),
                "\(outcome.standardError)")
    }
}

/// Bytes appended from one thread and read from another.
final class LockedBytes: @unchecked Sendable {
    // @unchecked Sendable: every access holds `lock`.
    private let lock = NSLock()
    private var storage: [UInt8] = []
    func append(_ bytes: ArraySlice<UInt8>) { lock.withLock { storage += bytes } }
    var bytes: [UInt8] { lock.withLock { storage } }
}
