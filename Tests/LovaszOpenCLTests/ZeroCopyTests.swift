import Dispatch
import LovaszTestSupport
import Synchronization
import Testing
@testable import Lovasz

/// The zero-copy path: engines on a caller's queue computing on the caller's device buffers,
/// which are created `CL_MEM_HOST_NO_ACCESS` so that any host transfer of them would fail.
@Suite("Zero-copy on a caller's OpenCL queue and buffers", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct ZeroCopyTests {
    /// Runs `problem` with `options` on device buffers at nonzero offsets; returns the result
    /// and the gradient copied out on the device.
    static func run(
        _ problem: RandomProblem, options: LossOptions, caller: CallerQueue, engine: LovaszEngine,
        labelType: DeviceElementType = .int32
    ) throws -> (LossResult, [Float]) {
        let align = try caller.alignment
        let scores = try caller.deviceBuffer(problem.scores, byteOffset: align)
        let gradient = try caller.deviceBuffer([Float](repeating: .nan, count: problem.scores.count), byteOffset: 2 * align)
        let labels: CLBuffer
        switch labelType {
        case .uint8: labels = try caller.deviceBuffer(problem.labels.map { UInt8(truncatingIfNeeded: $0) }, byteOffset: 3)
        case .int64: labels = try caller.deviceBuffer(problem.labels(as: Int64.self), byteOffset: 24)
        default: labels = try caller.deviceBuffer(problem.labels, byteOffset: 12)
        }
        let labelOffset = labelType == .uint8 ? 3 : labelType == .int64 ? 24 : 12
        let (result, _) = try engine.compute(
            scores: range(scores, byteOffset: align, count: problem.scores.count, .float32), shape: problem.shape,
            labels: range(labels, byteOffset: labelOffset, count: problem.labels.count, labelType), options: options,
            gradient: range(gradient, byteOffset: 2 * align, count: problem.scores.count, .float32))
        return (result, try caller.floats(of: gradient, byteOffset: 2 * align, count: problem.scores.count))
    }

    @Test("equals the host-array OpenCL path on the random catalog, buffers at nonzero offsets", arguments: RandomProblems.all)
    func catalog(_ recipe: RandomRecipe) throws {
        let caller = try CallerQueue()
        let engine = try LovaszEngine(openCLQueue: caller.handle)
        let hostEngine = try #require(openCLEngine)
        let problem = recipe.make()
        let labelTypes: [DeviceElementType] = [.int32, .uint8, .int64]
        for (index, options) in problem.optionVariants.enumerated() {
            let labelType = labelTypes[index % 3]
            if labelType == .uint8 && problem.labels.contains(where: { $0 < 0 || $0 > 255 }) { continue }
            let (device, deviceGradient) = try Self.run(problem, options: options, caller: caller, engine: engine, labelType: labelType)
            let (host, hostGradient) = try hostEngine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            #expect(device.loss == host.loss, "\(options) \(labelType)")
            #expect(device.segments == host.segments && device.classesCounted == host.classesCounted)
            #expect(deviceGradient == hostGradient, "\(options) \(labelType)")
        }
    }

    @Test("large groups (several parts per group, ignored pixels) and one-pixel images equal the CPU path",
          arguments: [([3, 5, 40, 41], false), ([3, 5, 40, 41], true), ([4000, 1, 1], true)])
    func planningShapes(shape: [Int], perImage: Bool) throws {
        let loss: LovaszLoss = shape.count == 3 ? .hinge : .softmax
        let classes = loss == .softmax ? shape[1] : 2
        var random = SplitMix64(seed: UInt64(shape.reduce(1, *)))
        let scores = (0..<shape.reduce(1, *)).map { _ in random.uniform(-3, 3) }
        let pixels = scores.count / (loss == .softmax ? shape[1] : 1)
        let labels: [Int32] = (0..<pixels).map { _ in
            let draw = random.uniform(0, 1)
            return draw < 0.3 ? 255 : Int32(random.uniform(0, Float(classes)).rounded(.down)) % Int32(classes)
        }
        let options = LossOptions(loss: loss, perImage: perImage, ignoreIndex: 255)
        let caller = try CallerQueue()
        let engine = try LovaszEngine(openCLQueue: caller.handle)
        let scoreBuffer = try caller.deviceBuffer(scores)
        let labelBuffer = try caller.deviceBuffer(labels)
        let gradientBuffer = try caller.deviceBuffer([Float](repeating: 0, count: scores.count))
        let (result, _) = try engine.compute(
            scores: range(scoreBuffer, count: scores.count, .float32), shape: shape,
            labels: range(labelBuffer, count: labels.count, .int32), options: options,
            gradient: range(gradientBuffer, count: scores.count, .float32))
        let gradient = try caller.floats(of: gradientBuffer, byteOffset: 0, count: scores.count)
        let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        #expect(abs(result.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3))
        #expect(result.segments == cpu.segments)
        #expect((zip(gradient, cpuGradient).map { abs($0 - $1) }.max() ?? 0) <= 1e-6)
    }

    @Test("the buffers really are host-no-access: a host read of one fails")
    func hostNoAccessIsEnforced() throws {
        let caller = try CallerQueue()
        let buffer = try caller.deviceBuffer([Float](repeating: 1, count: 16))
        #expect(throws: OpenCLError.self) { _ = try buffer.read(Float.self, count: 16, on: caller.queue) }
    }

    @Test("wait events are honoured and the returned completion event is complete")
    func events() throws {
        let caller = try CallerQueue()
        let engine = try LovaszEngine(openCLQueue: caller.handle)
        let problem = RandomProblems.catalog(.softmax)[0].make()
        let scores = try caller.deviceBuffer(problem.scores)
        let labels = try caller.deviceBuffer(problem.labels)
        let before = try caller.queue.marker()
        let (result, event) = try engine.compute(
            scores: range(scores, count: problem.scores.count, .float32), shape: problem.shape,
            labels: range(labels, count: problem.labels.count, .int32), options: problem.options(perImage: false),
            waitFor: [before.handle], returnEvent: true)
        #expect(event != nil)
        let completion = try CLEvent(status: 0, event: event, call: "test")
        try completion.wait()
        let expected = try cpuEngine.loss(scores: problem.scores, shape: problem.shape, labels: problem.labels, options: problem.options(perImage: false))
        #expect(abs(result.loss - expected.loss) <= 1e-5 * max(expected.loss, 1e-3))
    }

    @Test("two engines on two contexts, used from two threads at once, give the CPU's results")
    func concurrentContexts() throws {
        let problems = RandomProblems.catalog(.softmax).prefix(4).map { $0.make() }
        let expected = try problems.map { try cpuEngine.loss(scores: $0.scores, shape: $0.shape, labels: $0.labels, options: $0.options(perImage: false)).loss }
        let callers = try [CallerQueue(), CallerQueue()]
        let engines = try callers.map { try LovaszEngine(openCLQueue: $0.handle) }
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for round in 0..<3 {
                for (problem, loss) in zip(problems, expected) {
                    do {
                        let (result, _) = try Self.run(
                            problem, options: problem.options(perImage: false), caller: callers[worker], engine: engines[worker])
                        if abs(result.loss - loss) > 1e-5 * max(loss, 1e-3) {
                            failures.withLock { $0.append("worker \(worker) round \(round): \(result.loss) vs \(loss)") }
                        }
                    } catch {
                        failures.withLock { $0.append("worker \(worker): \(error)") }
                    }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
    }
}
