import Testing
@testable import Lovasz

/// `softmax_probabilities` in both its forms (one pixel per work-item, as on GPUs, and eight
/// pixels as vectors, as on CPU devices) against the CPU path's softmax, bit for bit.
@Suite(.enabled(if: kernelBackend != nil, "no OpenCL device on this host"))
struct SoftmaxKernelTests {
    /// The probabilities and the reported first non-finite index of the kernel with `lanes`.
    static func deviceSoftmax(_ logits: [Float], shape: ProblemShape, lanes: Int) throws -> (probabilities: [Float], firstNonFinite: UInt32) {
        let backend = try #require(kernelBackend)
        return try backend.withPipeline { (pipeline) throws(OpenCLError) -> ([Float], UInt32) in
            // The GPU's or the CPU's forms, the same programs as the other suites build.
            let configuration = KernelConfiguration(device: pipeline.context.device, formsFor: lanes == 1 ? .gpu : .cpu)
            #expect(configuration.vectorLanes == lanes)
            let program = try OpenCLBackend.programs.program(
                for: pipeline.context.device, source: KernelConfiguration.source, options: configuration.buildOptions)
            let stage = try ScoreStage(program: program, configuration: configuration)
            let queue = try PipelineQueue(context: program.context)
            let input = try CLBuffer(context: program.context, byteCount: logits.count * 4)
            let output = try CLBuffer(context: program.context, byteCount: logits.count * 4)
            let status = try CLBuffer(context: program.context, byteCount: 4)
            try queue.write(logits, to: input)
            try queue.fill(output, with: Float(-1), count: logits.count)
            try queue.write([UInt32.max], to: status)
            try stage.enqueueSoftmax(
                logits: input, probabilities: output, classes: shape.channels, spatial: shape.spatial,
                images: 0..<shape.batch, status: status, waitingFor: [], on: queue)
            return (try queue.read(Float.self, count: logits.count, from: output),
                    try queue.read(UInt32.self, count: 1, from: status)[0])
        }
    }

    /// Logits whose differences reach below the exp's cut-off (-87) and subnormal results.
    static func logits(count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float.random(in: -100...30, using: &rng) }
    }

    @Test("both forms give the CPU path's probabilities, images not a multiple of eight pixels",
          arguments: [1, 8], [[3, 5, 37], [2, 21, 64], [1, 3, 5], [4, 2, 9]])
    func probabilities(lanes: Int, dimensions: [Int]) throws {
        let shape = try ProblemShape(scores: dimensions, loss: .softmax)
        let logits = Self.logits(count: shape.scoreCount, seed: UInt64(shape.scoreCount))
        var expected = [Float](repeating: 0, count: logits.count)
        let sawNonFinite = logits.withUnsafeBufferPointer { input in
            expected.withUnsafeMutableBufferPointer { output in
                Probabilities.softmax(logits: input, into: output, shape: shape, workers: 1, vectorForms: false)
            }
        }
        #expect(!sawNonFinite)
        let device = try Self.deviceSoftmax(logits, shape: shape, lanes: lanes)
        #expect(device.firstNonFinite == .max)
        let differing = expected.indices.filter { device.probabilities[$0].bitPattern != expected[$0].bitPattern }
        #expect(differing.isEmpty, "\(differing.count) differ, first at \(differing.first ?? 0): \(differing.first.map { (device.probabilities[$0], expected[$0]) }.map(String.init(describing:)) ?? "")")
    }

    @Test("both forms report the smallest index of a NaN or infinity",
          arguments: [1, 8], [[5], [5, 100, 333], [333, 100], [0, 581]])
    func firstNonFinite(lanes: Int, positions: [Int]) throws {
        let shape = try ProblemShape(scores: [3, 4, 50], loss: .softmax)
        var logits = Self.logits(count: shape.scoreCount, seed: 3)
        let values: [Float] = [.nan, .infinity, -.infinity]
        for (index, position) in positions.enumerated() { logits[position] = values[index % values.count] }
        let device = try Self.deviceSoftmax(logits, shape: shape, lanes: lanes)
        // The naive answer: the first non-finite value in memory order.
        let first = logits.firstIndex { !$0.isFinite }
        #expect(device.firstNonFinite == UInt32(try #require(first)))
    }
}
