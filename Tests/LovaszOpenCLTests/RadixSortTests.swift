import Testing
@testable import Lovasz

/// The segmented radix sort (`Kernels/radix_sort.cl`) against a plain stable sort by the high word.
@Suite(.enabled(if: kernelBackend != nil, "no OpenCL device on this host"))
struct RadixSortTests {
    /// How the high words (the order-mapped errors) of a case are drawn.
    enum Errors: String, CaseIterable, Sendable {
        /// Uniform errors in [0, 1].
        case uniform
        /// Every key the same error.
        case allEqual
        /// A handful of distinct errors (long runs of ties).
        case fewDistinct
        /// Only the errors 0 and 1.
        case zeroAndOne
        /// Subnormal and tiny errors (1 − p with p subnormal, p itself), and zeros.
        case subnormal
        /// Hinge errors: any finite float, negative ones included.
        case anySign
    }

    static func error(_ kind: Errors, using rng: inout SplitMix64) -> Float {
        switch kind {
        case .uniform: return Float.random(in: 0...1, using: &rng)
        case .allEqual: return 0.375
        case .fewDistinct: return [0, 0.25, 0.5, 1][Int.random(in: 0..<4, using: &rng)]
        case .zeroAndOne: return Bool.random(using: &rng) ? 0 : 1
        case .subnormal:
            let tiny = Float(bitPattern: UInt32.random(in: 0...0x007F_FFFF, using: &rng))
            return [tiny, 1 - tiny, 0, Float.leastNormalMagnitude][Int.random(in: 0..<4, using: &rng)]
        case .anySign:
            let value = Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &rng))
            return [value, -value, 0, -0.0][Int.random(in: 0..<4, using: &rng)]
        }
    }

    /// Keys whose high word is a mapped error and whose low word is random (so that only a
    /// stable sort equals the reference), one per position.
    static func keys(count: Int, errors: Errors, seed: UInt64) -> [UInt64] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            UInt64(SortKey.descending(error(errors, using: &rng))) << 32 | UInt64(UInt32.random(in: 0...UInt32.max, using: &rng))
        }
    }

    /// Each range stably sorted by the high word (ties in position order); the rest unchanged.
    static func reference(_ keys: [UInt64], ranges: [Range<Int>]) -> [UInt64] {
        var result = keys
        for range in ranges {
            let order = range.sorted { (a, b) in
                let (ka, kb) = (keys[a] >> 32, keys[b] >> 32)
                return ka != kb ? ka < kb : a < b
            }
            for (offset, index) in order.enumerated() { result[range.lowerBound + offset] = keys[index] }
        }
        return result
    }

    /// The radix layouts, whatever the device: the device's own, a GPU's (a work-group of up
    /// to 256 work-items per tile, two 4-bit splits) ranking in the upsweep and in the
    /// downsweep, a CPU's (one work-item per tile: counted, then scattered in key order), and
    /// 16 or 4 work-items with one 8-bit split (the latter with fewer than eight histogram copies).
    enum Layout: String, CaseIterable, Sendable {
        case device, gpu, gpuDownsweepRanking, cpu, wideSplit, smallGroupDownsweepRanking

        func configuration(_ base: KernelConfiguration, device: OpenCLDevice) -> KernelConfiguration {
            switch self {
            case .device: base
            case .gpu: KernelConfiguration(device: device, formsFor: .gpu).radixRanking(.upsweep)
            case .gpuDownsweepRanking: KernelConfiguration(device: device, formsFor: .gpu).radixRanking(.downsweep)
            case .cpu: KernelConfiguration(device: device, formsFor: .cpu)
            case .wideSplit: base.radixLayout(group: 16, items: 256, splitBits: 8).radixRanking(.upsweep)
            case .smallGroupDownsweepRanking:
                base.radixLayout(group: 4, items: 64, splitBits: 8).radixRanking(.downsweep)
            }
        }
    }

    /// The radix sort of `ranges` of `keys` on the test backend, with `layout`.
    static func radixSort(_ keys: [UInt64], ranges: [Range<Int>], layout: Layout = .device) throws -> [UInt64] {
        let backend = try #require(kernelBackend)
        return try backend.withPipeline { (pipeline) throws(OpenCLError) -> [UInt64] in
            let configuration = layout.configuration(pipeline.configuration, device: pipeline.context.device)
            let program = try OpenCLBackend.programs.program(
                for: pipeline.context.device, source: KernelConfiguration.source, options: configuration.buildOptions)
            let stage = try RadixSortStage(program: program, configuration: configuration)
            guard stage.isRunnable else { return keys }
            // Another layout is another program, in a context of its own.
            let queue = try PipelineQueue(context: program.context)
            let buffer = try CLBuffer(context: program.context, byteCount: keys.count * 8)
            try queue.write(keys, to: buffer)
            try stage.enqueueSort(keys: buffer, ranges: ranges, on: queue)
            return try queue.read(UInt64.self, count: keys.count, from: buffer)
        }
    }

    static var tile: Int { kernelBackend?.configuration.radixTile ?? 4096 }

    /// 0, 1, 2, tile − 1, tile, tile + 1 and 3·tile + 17 keys.
    static func edgeSizes(_ layout: Layout) -> [Int] {
        let tile = kernelBackend.map { layout.configuration($0.configuration, device: $0.device).radixTile } ?? 4096
        return [0, 1, 2, tile - 1, tile, tile + 1, 3 * tile + 17]
    }

    @Test("one segment of each edge size, between untouched guard keys",
          arguments: 0..<7, Errors.allCases)
    func edgeSizes(sizeIndex: Int, errors: Errors) throws {
        for layout in Layout.allCases {
            try edgeSize(Self.edgeSizes(layout)[sizeIndex], errors: errors, layout: layout)
        }
    }

    func edgeSize(_ size: Int, errors: Errors, layout: Layout) throws {
        let guardKeys = 37
        let keys = Self.keys(count: size + 2 * guardKeys, errors: errors, seed: UInt64(size) &* 31 &+ 7)
        let ranges = [guardKeys ..< guardKeys + size]
        let sorted = try Self.radixSort(keys, ranges: ranges, layout: layout)
        #expect(sorted == Self.reference(keys, ranges: ranges), "\(size) keys, \(layout) layout")
    }

    @Test("many segments of mixed sizes in one launch", arguments: [Errors.uniform, .fewDistinct, .anySign])
    func mixedSegments(errors: Errors) throws {
        var rng = SplitMix64(seed: 99)
        var ranges: [Range<Int>] = []
        var position = 0
        for index in 0..<60 {
            let size = index % 7 == 0 ? Int.random(in: Self.tile...(2 * Self.tile + 5), using: &rng)
                : Int.random(in: 0...300, using: &rng)
            let gap = Int.random(in: 0...3, using: &rng)
            ranges.append(position + gap ..< position + gap + size)
            position += gap + size
        }
        let keys = Self.keys(count: position + 5, errors: errors, seed: 5)
        let expected = Self.reference(keys, ranges: ranges)
        for layout in Layout.allCases {
            #expect(try Self.radixSort(keys, ranges: ranges, layout: layout) == expected, "\(layout) layout")
        }
    }

    @Test("a segment of 2^20 + 3 keys in rank order comes out in ascending 64-bit order")
    func largeSegment() throws {
        var rng = SplitMix64(seed: 11)
        let count = 1 << 20 + 3
        let keys = (0..<count).map { rank in
            SortKey.pack(error: Float.random(in: 0...1, using: &rng), rank: rank, foreground: Bool.random(using: &rng))
        }
        let sorted = try Self.radixSort(keys, ranges: [0..<count])
        #expect(sorted == keys.sorted())
    }
}
