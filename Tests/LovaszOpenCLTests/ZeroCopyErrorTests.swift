import LovaszTestSupport
import Testing
@testable import Lovasz

/// Every bad handle or buffer given to the zero-copy path is a clear ``LovaszError``, never a crash.
@Suite("Zero-copy rejects bad handles and buffers", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct ZeroCopyErrorTests {
    let caller: CallerQueue
    let engine: LovaszEngine
    let problem = RandomProblems.catalog(.softmax)[0].make()
    let scores: CLBuffer
    let labels: CLBuffer
    let gradient: CLBuffer

    init() throws {
        caller = try CallerQueue()
        engine = try LovaszEngine(openCLQueue: caller.handle)
        scores = try caller.deviceBuffer(problem.scores, byteOffset: 0, extraBytes: 4096)
        labels = try caller.deviceBuffer(problem.labels)
        gradient = try caller.deviceBuffer([Float](repeating: 0, count: problem.scores.count), extraBytes: 4096)
    }

    var options: LossOptions { problem.options(perImage: false) }
    var scoreRange: OpenCLDeviceBuffer { range(scores, count: problem.scores.count, .float32) }
    var labelRange: OpenCLDeviceBuffer { range(labels, count: problem.labels.count, .int32) }

    /// The OpenCL status of the error `body` throws, or nil for another error.
    func status(_ body: () throws(LovaszError) -> Void) -> Int32? {
        do throws(LovaszError) {
            try body()
            Issue.record("no error thrown")
        } catch {
            if case .openCL(let failure) = error { return failure.status }
            Issue.record("not an OpenCL error: \(error)")
        }
        return nil
    }

    @Test("a null queue, or a buffer passed as a queue")
    func badQueues() throws {
        #expect(status { () throws(LovaszError) in _ = try LovaszEngine(openCLQueue: nil) } == -36)
        #expect(status { () throws(LovaszError) in _ = try LovaszEngine(openCLQueue: scores.handle) } != nil)
    }

    @Test("null buffers, a buffer of another context, a misaligned sub-buffer offset, a read-only gradient")
    func badBuffers() throws {
        let nullScores = OpenCLDeviceBuffer(memory: nil, count: problem.scores.count, elementType: .float32)
        #expect(status { () throws(LovaszError) in
            _ = try engine.compute(scores: nullScores, shape: problem.shape, labels: labelRange, options: options)
        } == -38)
        let other = try CallerQueue()
        let foreign = try other.deviceBuffer(problem.scores)
        #expect(status { () throws(LovaszError) in
            _ = try engine.compute(
                scores: range(foreign, count: problem.scores.count, .float32), shape: problem.shape, labels: labelRange,
                options: options)
        } == -34)
        #expect(status { () throws(LovaszError) in
            _ = try engine.compute(
                scores: range(scores, byteOffset: 4, count: problem.scores.count, .float32), shape: problem.shape,
                labels: labelRange, options: options)
        } == -13)
        let readOnly = try CLBuffer(context: caller.context, byteCount: problem.scores.count * 4, access: .readOnly)
        #expect(status { () throws(LovaszError) in
            _ = try engine.compute(
                scores: scoreRange, shape: problem.shape, labels: labelRange, options: options,
                gradient: range(readOnly, count: problem.scores.count, .float32))
        } == -38)
        #expect(status { () throws(LovaszError) in
            _ = try engine.compute(
                scores: scoreRange, shape: problem.shape, labels: labelRange, options: options, waitFor: [nil])
        } == -57)
    }

    @Test("buffers too small, counts that do not match the shape, wrong element types and offsets")
    func badRanges() throws {
        #expect(throws: LovaszError.self) {
            try engine.compute(
                scores: scoreRange, shape: problem.shape,
                labels: range(labels, byteOffset: 128, count: problem.labels.count, .int32), options: options)
        }
        #expect(throws: LovaszError.self) {
            try engine.compute(
                scores: range(scores, count: problem.scores.count - 1, .float32), shape: problem.shape,
                labels: labelRange, options: options)
        }
        #expect(throws: LovaszError.self) {
            try engine.compute(
                scores: range(scores, count: problem.scores.count, .int32), shape: problem.shape,
                labels: labelRange, options: options)
        }
        #expect(status { () throws(LovaszError) in
            _ = try engine.compute(
                scores: scoreRange, shape: problem.shape,
                labels: range(labels, byteOffset: 2, count: problem.labels.count, .int32), options: options)
        } == -30)
        #expect(throws: LovaszError.openCLUnavailable("the engine computes on the CPU; device buffers need an OpenCL engine")) {
            try cpuEngine.compute(scores: scoreRange, shape: problem.shape, labels: labelRange, options: options)
        }
    }

    @Test("an out-of-range label and a NaN score are found on the device and named with their values")
    func badValues() throws {
        var badLabels = problem.labels
        badLabels[5] = 99
        let labelBuffer = try caller.deviceBuffer(badLabels.map(Int64.init), byteOffset: 16)
        let host = try cpuEngine.loss(scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
        #expect(host.loss.isFinite)
        let expectedLabel = LovaszError.labelOutOfRange(
            position: ProblemShape.unravel(5, in: [problem.shape[0]] + problem.shape.dropFirst(2)), label: "99",
            classes: problem.channels)
        #expect(throws: expectedLabel) {
            try engine.compute(
                scores: scoreRange, shape: problem.shape,
                labels: range(labelBuffer, byteOffset: 16, count: badLabels.count, .int64), options: options)
        }
        var badScores = problem.scores
        badScores[7] = -.infinity
        let scoreBuffer = try caller.deviceBuffer(badScores)
        #expect(throws: LovaszError.nonFiniteScore(position: ProblemShape.unravel(7, in: problem.shape), value: -.infinity)) {
            try engine.compute(
                scores: range(scoreBuffer, count: badScores.count, .float32), shape: problem.shape, labels: labelRange,
                options: options)
        }
    }
}
