import LovaszTestSupport
import Synchronization
import Dispatch
import Testing
@testable import Lovasz

/// The OpenCL engine on any device (PoCL in CI), or nil when no OpenCL device exists.
let openCLEngine: LovaszEngine? = try? LovaszEngine(backend: .opencl)
let cpuEngine: LovaszEngine = try! LovaszEngine(backend: .cpu)

/// One random problem: shape, options, and how labels and scores are drawn.
struct EquivalenceCase: CustomTestStringConvertible, Sendable {
    var name: String
    var shape: [Int]
    var options: LossOptions
    /// Fraction of pixels labelled with the ignore index 255 (per image: this times b+1).
    var ignored: Double = 0
    /// An image whose pixels are all ignored.
    var allIgnoredImage: Int?
    /// Labels drawn from 0..<usedClasses only (the others are absent).
    var usedClasses: Int?
    /// Scores drawn from this many distinct values (ties), or continuous when nil.
    var levels: Int?
    var seed: UInt64 = 1

    var testDescription: String { name }

    func makeInputs() -> (scores: [Float], labels: [Int32]) {
        var rng = SplitMix64(seed: seed)
        let batch = shape[0]
        let classes = options.loss == .softmax ? shape[1] : 2
        let pixels = shape.reduce(1, *) / batch / (options.loss == .softmax ? shape[1] : 1)
        let count = shape.reduce(1, *)
        let probabilities = options.scoresAre == .probabilities
        let scores: [Float] = (0..<count).map { _ in
            if let levels { return Float(Int.random(in: 0..<levels, using: &rng)) * 0.5 - (probabilities ? 0 : 1) }
            return probabilities ? Float.random(in: 0...1, using: &rng) : Float.random(in: -3...3, using: &rng)
        }
        var labels = [Int32]()
        for b in 0..<batch {
            for _ in 0..<pixels {
                if b == allIgnoredImage || Double.random(in: 0..<1, using: &rng) < ignored * Double(b + 1) {
                    labels.append(255)
                } else {
                    labels.append(Int32(Int.random(in: 0..<(usedClasses ?? classes), using: &rng)))
                }
            }
        }
        return (scores, labels)
    }
}

let equivalenceCases: [EquivalenceCase] = [
    .init(name: "softmax per batch, ignored pixels", shape: [3, 5, 7, 9], options: .softmax(ignoreIndex: 255), ignored: 0.1),
    .init(name: "softmax per image, groups of different sizes, an all-ignored image",
          shape: [4, 4, 6, 11], options: .softmax(perImage: true, ignoreIndex: 255), ignored: 0.15, allIgnoredImage: 2),
    .init(name: "softmax, 150 classes, all counted", shape: [2, 150, 5, 7], options: .softmax(classes: .all)),
    .init(name: "softmax, one pixel, one class", shape: [1, 1, 1, 1], options: .softmax()),
    .init(name: "softmax per image, one pixel each", shape: [4, 3, 1, 1], options: .softmax(perImage: true)),
    .init(name: "softmax ties", shape: [2, 3, 13, 17], options: .softmax(), levels: 3),
    .init(name: "softmax, explicit list with an absent class, weights",
          shape: [2, 4, 9, 5], options: .softmax(classes: .explicit([0, 3, 1]), classWeights: [1, 2, 0.5, 3]), usedClasses: 3),
    .init(name: "softmax from probabilities", shape: [2, 3, 8, 7], options: .softmax(scoresAre: .probabilities)),
    .init(name: "softmax, groups past the local sort and the scan tile", shape: [2, 3, 61, 71], options: .softmax(ignoreIndex: 255), ignored: 0.05),
    .init(name: "softmax, 3-D volumes", shape: [2, 3, 4, 5, 6], options: .softmax(perImage: true)),
    .init(name: "hinge per image, ignored pixels", shape: [5, 13, 11], options: .hinge(ignoreIndex: 255), ignored: 0.1),
    .init(name: "hinge per batch, ties", shape: [3, 10, 10], options: .hinge(perImage: false), levels: 4),
    .init(name: "hinge, all-ignored image", shape: [3, 8, 8], options: .hinge(ignoreIndex: 255), allIgnoredImage: 0),
    .init(name: "hinge, one pixel", shape: [1, 1], options: .hinge()),
    .init(name: "sigmoid from logits, [B,1,D,H,W]", shape: [2, 1, 3, 4, 5], options: .sigmoid()),
    .init(name: "sigmoid from probabilities per batch", shape: [3, 9, 7], options: .sigmoid(perImage: false, scoresAre: .probabilities)),
    .init(name: "sigmoid, large group", shape: [1, 97, 101], options: .sigmoid(ignoreIndex: 255), ignored: 0.2),
]

/// OpenCL against the CPU path: loss to 1e-5 relative, gradients to 1e-6 absolute, element
/// by element (docs/DESIGN.md §6).
func expectEquivalent(_ testCase: EquivalenceCase, engine: LovaszEngine) throws {
    let (scores, labels) = testCase.makeInputs()
    let (gpu, gpuGradient) = try engine.lossAndGradient(
        scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
    let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(
        scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
    #expect(gpu.backend == .opencl)
    #expect(gpu.classesCounted == cpu.classesCounted)
    #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3), "\(gpu.loss) vs \(cpu.loss)")
    var worst = (difference: Float(0), index: 0)
    for i in gpuGradient.indices where abs(gpuGradient[i] - cpuGradient[i]) > worst.difference {
        worst = (abs(gpuGradient[i] - cpuGradient[i]), i)
    }
    #expect(worst.difference <= 1e-6, "gradient differs by \(worst.difference) at \(worst.index)")
}

@Suite("OpenCL equals the CPU path", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct BackendEquivalenceTests {
    @Test(arguments: equivalenceCases)
    func randomProblem(_ testCase: EquivalenceCase) throws {
        try expectEquivalent(testCase, engine: try #require(openCLEngine))
    }

    @Test("segments sorted in several chunks, transfers staged through pinned memory")
    func chunks() throws {
        let device = try #require(OpenCLDiscovery.system.selectDevice(for: .opencl).device)
        let backend = try OpenCLBackend(device: device, chunkKeyLimit: 1, stagedTransfers: true)
        let engine = try LovaszEngine(openCL: backend)
        try expectEquivalent(equivalenceCases[1], engine: engine)
        try expectEquivalent(equivalenceCases[2], engine: engine)
    }

    @Test("loss only, without a gradient buffer")
    func lossOnly() throws {
        let engine = try #require(openCLEngine)
        let (scores, labels) = equivalenceCases[0].makeInputs()
        let gpu = try engine.loss(scores: scores, shape: equivalenceCases[0].shape, labels: labels, options: equivalenceCases[0].options)
        let cpu = try cpuEngine.loss(scores: scores, shape: equivalenceCases[0].shape, labels: labels, options: equivalenceCases[0].options)
        #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * cpu.loss)
    }

    @Test("the zero-copy timing computes the same loss")
    func zeroCopyTiming() throws {
        let engine = try #require(openCLEngine)
        let testCase = equivalenceCases[1]
        let (scores, labels) = testCase.makeInputs()
        let expected = try engine.loss(scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
        let (seconds, loss) = try scores.withUnsafeBufferPointer { scores in
            try labels.withUnsafeBufferPointer { labels in
                try engine.zeroCopyTimes(
                    scores: scores, shape: testCase.shape, labels: labels, options: testCase.options, repetitions: 3)
            }
        }
        #expect(seconds.count == 3 && seconds.allSatisfy { $0 > 0 })
        #expect(abs(loss - expected.loss) <= 1e-12 * max(expected.loss, 1))
        #expect(throws: LovaszError.self) {
            try scores.withUnsafeBufferPointer { scores in
                try labels.withUnsafeBufferPointer { labels in
                    _ = try cpuEngine.zeroCopyTimes(
                        scores: scores, shape: testCase.shape, labels: labels, options: testCase.options, repetitions: 1)
                }
            }
        }
    }

    @Test("a NaN or infinite score is found by the kernels and named")
    func nonFinite() throws {
        let engine = try #require(openCLEngine)
        var scores = [Float](repeating: 0.5, count: 2 * 3 * 4)
        scores[17] = .infinity
        scores[20] = .nan
        let labels = [Int32](repeating: 1, count: 2 * 4)
        #expect(throws: LovaszError.nonFiniteScore(position: [1, 1, 1], value: .infinity)) {
            _ = try engine.loss(scores: scores, shape: [2, 3, 4], labels: labels, options: .softmax())
        }
    }

    /// The kernels that make probabilities validate the logits as they read them, pixel by
    /// pixel across the classes: the smallest flat index must still win.
    @Test("the first bad score in flat order, whichever kernel validates it", arguments: [
        LossOptions.softmax(), .softmax(scoresAre: .probabilities), .sigmoid(), .hinge(),
    ])
    func firstNonFiniteInFlatOrder(_ options: LossOptions) throws {
        let engine = try #require(openCLEngine)
        let softmax = options.loss == .softmax
        let shape = softmax ? [2, 3, 4] : [2, 12]
        var scores = [Float](repeating: 0.25, count: 24)
        scores[9] = -.infinity  // [0, 2, 1]: read before flat index 6 by the per-pixel softmax
        scores[6] = .nan  // [0, 1, 2]
        scores[20] = .infinity
        let labels = [Int32](repeating: 1, count: softmax ? 8 : 24)
        let error = #expect(throws: LovaszError.self) {
            _ = try engine.loss(scores: scores, shape: shape, labels: labels, options: options)
        }
        guard case .nonFiniteScore(let position, let value) = error else {
            Issue.record("expected nonFiniteScore, got \(String(describing: error))")
            return
        }
        #expect(position == ProblemShape.unravel(6, in: shape))
        #expect(value.isNaN)
    }

    @Test("many threads calling one engine at once get the CPU's results")
    func concurrentCalls() throws {
        let engine = try #require(openCLEngine)
        let cases = Array(equivalenceCases.prefix(8))
        let expected = try cases.map { testCase in
            let (scores, labels) = testCase.makeInputs()
            return try cpuEngine.lossAndGradient(scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
        }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 32) { iteration in
            let testCase = cases[iteration % cases.count]
            let (scores, labels) = testCase.makeInputs()
            do {
                let (result, gradient) = try engine.lossAndGradient(
                    scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
                let reference = expected[iteration % cases.count]
                let worst = zip(gradient, reference.gradient).map { abs($0 - $1) }.max() ?? 0
                if abs(result.loss - reference.result.loss) > 1e-5 * max(reference.result.loss, 1e-3) || worst > 1e-6 {
                    failures.record("\(testCase.name): loss \(result.loss) vs \(reference.result.loss), gradient \(worst)")
                }
            } catch {
                failures.record("\(testCase.name): \(error)")
            }
        }
        #expect(failures.messages.isEmpty, "\(failures.messages)")
    }
}

/// Failure messages collected from several threads.
final class Failures: Sendable {
    private let list = Mutex<[String]>([])
    func record(_ message: String) { list.withLock { $0.append(message) } }
    var messages: [String] { list.withLock { $0 } }
}

/// The hinge's cut at the last positive error on the device: confident logits, per image and
/// per batch, segments cut by one work-item (at most 64 pixels) and by work-groups, with and
/// without positive errors (none: no key kept although the segment has foreground).
@Suite("OpenCL equals the CPU path on confident hinge logits", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct ConfidentHingeEquivalenceTests {
    @Test(arguments: [[6, 7, 8], [2, 90, 70]], [UInt64(0), 3])
    func confidentLogits(shape: [Int], insideMargin: UInt64) throws {
        let engine = try #require(openCLEngine)
        let (scores, labels) = ConfidentHinge.make(count: shape.reduce(1, *), insideMargin: insideMargin, seed: 7)
        for perImage in [true, false] {
            let options = LossOptions.hinge(perImage: perImage, ignoreIndex: 255)
            let (gpu, gpuGradient) = try engine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
            let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
            #expect(gpu.backend == .opencl)
            #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3), "\(shape) per image \(perImage)")
            let worst = zip(gpuGradient, cpuGradient).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6, "\(shape) per image \(perImage)")
            if insideMargin == 0 { #expect(cpu.loss == 0 && gpu.loss == 0) }
        }
    }
}
