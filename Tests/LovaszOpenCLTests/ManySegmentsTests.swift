import Testing
@testable import Lovasz

/// Thousands of tiny segments mixed with a few large ones (issue 10): the key kernels take a
/// work-item per small segment and a work-group per block of a large one, and the sort groups
/// segments of similar kept counts; the results equal the CPU path's.
@Suite("OpenCL with many tiny segments and a few large ones", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct ManySegmentsTests {
    /// Per image: 1 to 3 valid pixels for most images, every pixel for a few, and some just
    /// below and above ``KernelLayout/smallSegment`` (the other pixels ignored, label 255).
    static func labels(images: Int, pixels: Int, classes: Int, seed: UInt64) -> [Int32] {
        var random = SplitMix64(seed: seed)
        var labels = [Int32]()
        for image in 0..<images {
            let valid: Int
            switch image % 97 {
            case 5, 50: valid = pixels
            case 7: valid = KernelLayout.smallSegment
            case 8: valid = KernelLayout.smallSegment + 1
            case 9: valid = 0
            default: valid = 1 + random.below(3)
            }
            for p in 0..<pixels {
                labels.append(p < valid ? Int32(random.below(classes)) : 255)
            }
        }
        return labels
    }

    static let cases: [(name: String, shape: [Int], options: LossOptions)] = [
        ("hinge per image", [800, 520], .hinge(ignoreIndex: 255)),
        ("softmax per image, all classes", [800, 2, 520], .softmax(classes: .all, perImage: true, ignoreIndex: 255)),
        ("softmax per image, present classes, 3 classes", [500, 3, 520], .softmax(perImage: true, ignoreIndex: 255)),
        ("sigmoid from probabilities per image", [800, 520], .sigmoid(ignoreIndex: 255, scoresAre: .probabilities)),
    ]

    /// The default engine, and a backend with work-groups of 8 (a block of 64 ranks: a
    /// segment of every pixel spans more blocks than a work-group has work-items) sorting
    /// chunks of at most 4096 keys.
    static func engines() throws -> [LovaszEngine] {
        let device = try #require(OpenCLDiscovery.system.selectDevice(for: .opencl).device)
        let configuration = KernelConfiguration(device: device, localSizeLimit: 8)
        let program = try OpenCLBackend.programs.program(
            for: device, source: KernelConfiguration.source, options: configuration.buildOptions)
        let stages = try PipelineStages(program: program, configuration: configuration)
        let small = try OpenCLBackend(
            stages: stages, configuration: configuration, queue: CLCommandQueue(context: program.context),
            chunkKeyLimit: 4096)
        return [try #require(openCLEngine), try LovaszEngine(openCL: small)]
    }

    @Test("equal the CPU path", arguments: 0..<cases.count)
    func equivalence(index: Int) throws {
        let (_, shape, options) = Self.cases[index]
        let softmax = options.loss == .softmax
        let images = shape[0], pixels = shape.last!, classes = softmax ? shape[1] : 2
        let labels = Self.labels(images: images, pixels: pixels, classes: classes, seed: UInt64(index + 1))
        var random = SplitMix64(seed: 0x5E6 &+ UInt64(index))
        let probabilities = options.scoresAre == .probabilities
        let scores = (0..<shape.reduce(1, *)).map { _ in probabilities ? random.uniform(0, 1) : random.uniform(-3, 3) }
        let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        for engine in try Self.engines() {
            let (gpu, gpuGradient) = try engine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
            #expect(gpu.backend == .opencl && gpu.segments == cpu.segments && gpu.classesCounted == cpu.classesCounted)
            #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3), "\(gpu.loss) vs \(cpu.loss)")
            let worst = zip(gpuGradient, cpuGradient).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6, "gradient differs by \(worst)")
        }
    }
}

/// The host's tables for the key kernels and the sort batches, checked against their
/// definitions.
@Suite("Segment blocks and sort batches")
struct SortBatchesTests {
    @Test("small segments list no block; large ones their blocks, consecutively")
    func blocks() {
        let counts = [0, 1, 64, 65, 128, 129, 3, 1000]
        let blocks = SegmentBlocks(counts: counts, smallSegment: 64, blockSize: 64)
        #expect(blocks.largeSegments == [3, 4, 5, 7])
        let expected = counts.map { $0 > 64 ? ($0 + 63) / 64 : 0 }
        for (k, count) in expected.enumerated() {
            #expect(blocks.blocks(of: k).count == count)
            #expect(blocks.blocks(of: k).allSatisfy { blocks.blockSegments[$0] == UInt32(k) })
        }
        #expect(blocks.blockSegments.count == expected.reduce(0, +))
    }

    @Test(
        "every segment once, padded to at least its kept count, padding within twice the kept keys plus slack",
        arguments: [
            [UInt32](repeating: 1, count: 5000) + [100_000, 3, 70_000],
            [UInt32](repeating: 300, count: 40),
            [0, 0, 1, 2, 3, 4, 5, 1000, 1 << 20],
            (0..<3000).map { UInt32($0 % 37) },
        ])
    func batches(kept: [UInt32]) {
        let counts = kept.map { Int($0) + 10 }
        let blocks = SegmentBlocks(counts: counts, smallSegment: 64, blockSize: 256)
        let slack = 4096
        let batches = SortBatches(kept: kept, blocks: blocks, slack: slack) { (padded: Int, total: Int) -> Int in
            min(total, max(1, 100_000 / padded))
        }
        #expect(batches.order.sorted() == (0..<UInt32(kept.count)).map { $0 })
        var padding = 0, classes = Set<Int>()
        var covered = [Int: [UInt32]]()
        for chunk in batches.chunks {
            classes.insert(chunk.padded)
            #expect(chunk.padded.nonzeroBitCount == 1)
            padding += chunk.padded * chunk.slots.count
            for slot in chunk.slots { #expect(Int(kept[Int(batches.order[slot])]) <= chunk.padded) }
            #expect(chunk.hasSmall == chunk.slots.contains { blocks.blocks(of: Int(batches.order[$0])).isEmpty })
            for entry in chunk.compactEntries {
                let e = batches.compactBlocks[2 * entry], slot = Int(batches.compactBlocks[2 * entry + 1])
                #expect(batches.order[chunk.slots.lowerBound + slot] == blocks.blockSegments[Int(e)])
                covered[Int(blocks.blockSegments[Int(e)]), default: []].append(e)
            }
        }
        // Each large segment's blocks are compacted once, each small segment's by one work-item.
        for k in blocks.largeSegments.map(Int.init) { #expect(covered[k] == blocks.blocks(of: k).map(UInt32.init)) }
        #expect(covered.count == blocks.largeSegments.count)
        let own = kept.map { 1 << SortBatches.paddedLog2($0) }.reduce(0, +)
        #expect(padding <= 2 * own + classes.count * slack)
        // Segments of one class keep their own order.
        if Set(kept.map(SortBatches.paddedLog2)).count == 1 { #expect(batches.order == (0..<UInt32(kept.count)).map { $0 }) }
    }
}
