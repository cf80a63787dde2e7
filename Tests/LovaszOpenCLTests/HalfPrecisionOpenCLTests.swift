import Testing
@testable import Lovasz
import LovaszTestSupport

/// 16-bit scores on the OpenCL path: uploaded as they are, widened on the device, and the
/// gradient rounded on the device when asked in the scores' type.
@Suite("Half-precision scores on OpenCL", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct HalfPrecisionOpenCLTests {
    static let cases = Array(equivalenceCases.prefix(2)) + [equivalenceCases[7], equivalenceCases[10], equivalenceCases[14]]

    @Test("float16 and bfloat16 scores equal their float32 widening, in one piece and by chunks",
          arguments: [ScoreType.float16, .bfloat16], cases)
    func equalsWidened(type: ScoreType, testCase: EquivalenceCase) throws {
        let device = try #require(OpenCLDiscovery.system.selectDevice(for: .opencl).device)
        let chunked = try LovaszEngine(
            openCL: OpenCLBackend(device: device, stagedTransfers: true, transferChunkBytes: 1))
        let (scores, labels) = testCase.makeInputs()
        for engine in [try #require(openCLEngine), chunked] {
            switch type {
            case .float16:
                try HalfPrecisionCheck.expectEqualToWidened(
                    Float16.self, engine: engine, scores: scores, shape: testCase.shape, labels: labels,
                    options: testCase.options, "\(testCase.name)")
            case .bfloat16:
                try HalfPrecisionCheck.expectEqualToWidened(
                    BFloat16.self, engine: engine, scores: scores, shape: testCase.shape, labels: labels,
                    options: testCase.options, "\(testCase.name)")
            case .float32:
                break
            }
        }
        // And the CPU path on the same 16-bit scores, to the usual tolerance.
        let widened = scores.map { BFloat16(rounding: $0).floatValue }
        try expectEquivalent(widened, testCase)
    }

    @Test("the device widens every 16-bit pattern as Swift does, both types", arguments: [ScoreType.float16, .bfloat16])
    func widenEveryPattern(type: ScoreType) throws {
        let backend = try #require(kernelBackend)
        let patterns = [UInt16](0...UInt16.max)
        let widened = try backend.withPipeline { (pipeline) throws(OpenCLError) -> [Float] in
            let bits = try CLBuffer(context: pipeline.context, byteCount: patterns.count * 2)
            let floats = try CLBuffer(context: pipeline.context, byteCount: patterns.count * 4)
            try pipeline.queue.write(patterns, to: bits)
            try pipeline.stages.scores.enqueueWiden(
                bits: bits, scores: floats, type: type, first: 0, count: patterns.count, waitingFor: [], on: pipeline.queue)
            return try pipeline.queue.read(Float.self, count: patterns.count, from: floats)
        }
        for (pattern, value) in zip(patterns, widened) {
            let expected = type == .float16 ? Float(Float16(bitPattern: pattern)) : BFloat16(bitPattern: pattern).floatValue
            #expect(value == expected || (value.isNaN && expected.isNaN), "\(pattern)")
            #expect(type != .float16 || LossProblem.widenFloat16(pattern).bitPattern == expected.bitPattern || expected.isNaN)
        }
    }

    @Test("the device rounds the gradient to 16 bits as Swift does", arguments: [ScoreType.float16, .bfloat16])
    func narrowRandomFloats(type: ScoreType) throws {
        let backend = try #require(kernelBackend)
        var rng = SplitMix64(seed: 13)
        // Magnitudes from float16's subnormals to past its overflow, and exact ties.
        var values = (0..<50_000).map { _ in
            Float(sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -30...20, using: &rng),
                  significand: Float.random(in: 1..<2, using: &rng))
        }
        values += [0, -0.0, 1 + 0x1p-11, 1 + 0x1p-8, 1 + 3 * 0x1p-11, 65520, 0x1p-25, 3 * 0x1p-26]
        let narrowed = try backend.withPipeline { (pipeline) throws(OpenCLError) -> [UInt16] in
            let floats = try CLBuffer(context: pipeline.context, byteCount: values.count * 4)
            let bits = try CLBuffer(context: pipeline.context, byteCount: values.count * 2)
            try pipeline.queue.write(values, to: floats)
            _ = try pipeline.stages.backpropagation.enqueueNarrow(
                gradient: floats, bits: bits, type: type, first: 0, count: values.count, on: pipeline.queue)
            return try pipeline.queue.read(UInt16.self, count: values.count, from: bits)
        }
        for (value, bits) in zip(values, narrowed) {
            let expected = type == .float16 ? Float16(value).bitPattern : BFloat16(rounding: value).bitPattern
            #expect(bits == expected, "\(value)")
        }
    }
}

/// OpenCL on `scores` against the CPU path, as ``expectEquivalent(_:engine:)``.
func expectEquivalent(_ scores: [Float], _ testCase: EquivalenceCase) throws {
    let (_, labels) = testCase.makeInputs()
    let engine = try #require(openCLEngine)
    let (gpu, gpuGradient) = try engine.lossAndGradient(scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
    let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
    #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3))
    #expect(zip(gpuGradient, cpuGradient).allSatisfy { abs($0 - $1) <= 1e-6 })
}
