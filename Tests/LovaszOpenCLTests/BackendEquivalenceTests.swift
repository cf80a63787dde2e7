import Testing
@testable import Lovasz

/// The OpenCL engine on any device (PoCL in CI), or nil when no OpenCL device exists.
let openCLEngine: LovaszEngine? = try? LovaszEngine(backend: .opencl)
let cpuEngine: LovaszEngine = try! LovaszEngine(backend: .cpu)

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite(.enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct BackendEquivalenceQuickTests {
    @Test(arguments: [LovaszLoss.softmax, .hinge, .sigmoid], [false, true])
    func randomProblem(loss: LovaszLoss, perImage: Bool) throws {
        var rng = SplitMix(state: 42)
        let b = 3, c = loss == .softmax ? 5 : 1, h = 7, w = 9
        let shape = loss == .softmax ? [b, c, h, w] : [b, h, w]
        let scores = (0..<(b * c * h * w)).map { _ in Float.random(in: -2...2, using: &rng) }
        let labels: [Int32] = (0..<(b * h * w)).map { _ in
            Int32(Int.random(in: 0..<(loss == .softmax ? c : 2), using: &rng))
        }
        let options = LossOptions(loss: loss, perImage: perImage, ignoreIndex: 255)
        let engine = try #require(openCLEngine)
        let (gpu, gpuGradient) = try engine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        #expect(gpu.backend == .opencl)
        #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(1, abs(cpu.loss)))
        let worst = zip(gpuGradient, cpuGradient).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6)
    }
}
