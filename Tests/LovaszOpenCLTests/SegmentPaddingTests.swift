import Testing
@testable import Lovasz

/// Segments whose kept keys exceed one local sort go through the radix sort in slots of the
/// largest kept count rounded up to whole scan tiles, not to a power of two: the scan, the
/// gradient and the loss sums must find each segment's start in such slots.
@Suite("Segments padded to whole tiles, not powers of two", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct SegmentPaddingTests {
    /// The kernel forms the cases run with: the device's own, and a GPU's with either ranking
    /// of the radix sort (``KernelConfiguration/RadixRanking``).
    enum Forms: String, CaseIterable, Sendable {
        case device, gpuUpsweepRanking, gpuDownsweepRanking

        static let gpuEngines: [KernelConfiguration.RadixRanking: LovaszEngine] = {
            guard let device = OpenCLDiscovery.system.selectDevice(for: .opencl).device else { return [:] }
            var engines: [KernelConfiguration.RadixRanking: LovaszEngine] = [:]
            for ranking in KernelConfiguration.RadixRanking.allCases {
                if let backend = try? OpenCLBackend(device: device, formsFor: .gpu, radixRanking: ranking) {
                    engines[ranking] = try? LovaszEngine(openCL: backend)
                }
            }
            return engines
        }()

        var engine: LovaszEngine? {
            switch self {
            case .device: openCLEngine
            case .gpuUpsweepRanking: Self.gpuEngines[.upsweep]
            case .gpuDownsweepRanking: Self.gpuEngines[.downsweep]
            }
        }
    }

    /// Pixels per group just past 2.5 local sorts of 4 096 keys, so that the slot (3 · 4 096)
    /// is not a power of two; logits of ±8 make some foreground probabilities almost 1, so
    /// nearly every key is kept.
    @Test("several segments in one chunk, per batch and per image", arguments: [
        (shape: [1, 4, 105, 101], perImage: false),
        (shape: [3, 3, 103, 107], perImage: true),
        (shape: [2, 5, 53, 97], perImage: false),
    ], Forms.allCases)
    func slotsOfWholeTiles(_ problem: (shape: [Int], perImage: Bool), forms: Forms) throws {
        let (shape, perImage) = problem
        let engine = try #require(forms.engine)
        var rng = SplitMix64(seed: 21)
        let scores = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -8...8, using: &rng) }
        let labels = (0..<(shape[0] * shape[2] * shape[3])).map { _ in Int32.random(in: 0..<Int32(shape[1]), using: &rng) }
        let options = LossOptions.softmax(perImage: perImage)
        let (gpu, gpuGradient) = try engine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        #expect(gpu.backend == .opencl)
        #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3), "\(gpu.loss) vs \(cpu.loss)")
        let worst = zip(gpuGradient, cpuGradient).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6)
    }
}
