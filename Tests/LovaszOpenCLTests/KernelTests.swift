import Testing
@testable import Lovasz

/// A backend on the first usable OpenCL device of any kind (PoCL's CPU device in CI).
let kernelBackend: OpenCLBackend? = {
    guard let device = OpenCLDiscovery.system.selectDevice(for: .opencl).device else { return nil }
    return try? OpenCLBackend.shared(for: device)
}()

/// Each kernel on its own against a plain Swift version.
@Suite(.enabled(if: kernelBackend != nil, "no OpenCL device on this host"))
struct KernelTests {
    /// Random packed keys in segments of `padded`, the first `valid` of each real, the rest
    /// sentinels, with many equal high words (ties) and distinct low words.
    static func keys(segments: Int, padded: Int, valid: Int, total: Int, seed: UInt64) -> [UInt64] {
        var rng = SplitMix64(seed: seed)
        var keys = [UInt64](repeating: .max, count: total)
        for segment in 0..<segments {
            for rank in 0..<valid {
                let high = UInt64(Int.random(in: 0..<max(2, valid / 3), using: &rng)) * 0x0101_0101 & 0xFFFF_FFFF
                let foreground = UInt64(Bool.random(using: &rng) ? 1 : 0)
                keys[segment * padded + rank] = high << 32 | UInt64(rank) << 1 | foreground
            }
        }
        return keys
    }

    @Test("bitonic sort equals a sorted array of the same keys, segment by segment",
          arguments: [(1, 1, 1), (3, 8, 5), (2, 4096, 3000), (2, 16384, 12001), (5, 2048, 2048), (1, 65536, 40000)])
    func bitonicSort(segments: Int, padded: Int, valid: Int) throws {
        let backend = try #require(kernelBackend)
        let alignment = max(backend.configuration.localKeys, backend.configuration.scanTile)
        let total = KernelConfiguration.roundUp(segments * padded, to: alignment)
        let input = Self.keys(segments: segments, padded: padded, valid: valid, total: total, seed: UInt64(padded))
        let sorted = try backend.withPipeline { (pipeline) throws(OpenCLError) -> [UInt64] in
            let buffer = try CLBuffer(context: pipeline.context, byteCount: total * 8)
            try pipeline.queue.write(input, to: buffer)
            try pipeline.stages.sort.enqueueSort(keys: buffer, total: total, padded: padded, on: pipeline.queue)
            return try pipeline.queue.read(UInt64.self, count: total, from: buffer)
        }
        for segment in 0..<segments {
            let range = segment * padded ..< (segment + 1) * padded
            #expect(Array(sorted[range]) == input[range].sorted(), "segment \(segment)")
        }
    }

    @Test("segmented scan of the foreground bits equals a running sum",
          arguments: [(1, 1), (7, 16), (3, 1024), (2, 4096), (3, 8192), (1, 65536)])
    func segmentedScan(segments: Int, padded: Int) throws {
        let backend = try #require(kernelBackend)
        let configuration = backend.configuration
        let tile = configuration.scanTile
        let total = KernelConfiguration.roundUp(segments * padded, to: max(configuration.localKeys, tile))
        var rng = SplitMix64(seed: UInt64(segments * padded))
        let keys = (0..<total).map { _ in UInt64.random(in: 0...UInt64.max, using: &rng) }
        let (counts, carries) = try backend.withPipeline { (pipeline) throws(OpenCLError) -> ([UInt32], [UInt32]) in
            let keyBuffer = try CLBuffer(context: pipeline.context, byteCount: total * 8)
            let counts = try CLBuffer(context: pipeline.context, byteCount: total * 4)
            let totals = try CLBuffer(context: pipeline.context, byteCount: max(total / tile, 4) * 4)
            let carries = try CLBuffer(context: pipeline.context, byteCount: max(total / tile, 4) * 4)
            let segmentTotals = try CLBuffer(context: pipeline.context, byteCount: max(total / padded, 4) * 4)
            try pipeline.queue.write(keys, to: keyBuffer)
            try pipeline.queue.fill(carries, with: UInt32(0), count: max(total / tile, 4))
            try pipeline.stages.scan.enqueueForegroundCounts(
                keys: keyBuffer, counts: counts, tileTotals: totals, tileCarries: carries, segmentTotals: segmentTotals,
                total: total, padded: padded, on: pipeline.queue)
            return (try pipeline.queue.read(UInt32.self, count: total, from: counts),
                    try pipeline.queue.read(UInt32.self, count: max(total / tile, 1), from: carries))
        }
        var running: UInt32 = 0
        for i in 0..<(segments * padded) {
            if i % padded == 0 { running = 0 }
            running += UInt32(keys[i] & 1)
            let carry = padded > tile ? carries[i / tile] : 0
            #expect(counts[i] + carry == running, "position \(i)")
            if counts[i] + carry != running { return }
        }
    }

    @Test("the portable exp, softmax and back-propagation give the CPU path's bits")
    func portableMath() throws {
        let engine = try #require(openCLEngine)
        // Softmax over two classes with logit 0 for class 1: p0 = e^x / (e^x + 1) exercises
        // exp, the sum and the division on both paths; compare the gradients' errors through
        // a loss whose ordering depends on every bit.
        var rng = SplitMix64(seed: 7)
        let pixels = 4000
        var scores = [Float](repeating: 0, count: 2 * pixels)
        for i in 0..<pixels { scores[i] = Float.random(in: -90...30, using: &rng) }
        let labels = [Int32](repeating: 1, count: pixels)
        let options = LossOptions.softmax(classes: .all)
        let (gpu, gpuGradient) = try engine.lossAndGradient(scores: scores, shape: [1, 2, pixels], labels: labels, options: options)
        let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: [1, 2, pixels], labels: labels, options: options)
        // The per-segment sums are added in another order on the device: equal to rounding.
        #expect(abs(gpu.loss - cpu.loss) <= 1e-12 * cpu.loss)
        #expect(gpuGradient == cpuGradient)
    }
}
