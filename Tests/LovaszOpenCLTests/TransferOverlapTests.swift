import Testing
@testable import Lovasz

/// The chunked transfers that overlap the kernels (one image per chunk here), and the
/// per-phase device times.
@Suite("Chunked, overlapped transfers", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct TransferOverlapTests {
    /// An engine whose scores and gradient move one image per chunk, on the transfer queue.
    static func chunkedEngine(staged: Bool) throws -> LovaszEngine {
        let device = try #require(OpenCLDiscovery.system.selectDevice(for: .opencl).device)
        let backend = try OpenCLBackend(device: device, stagedTransfers: staged, transferChunkBytes: 1)
        return try LovaszEngine(openCL: backend)
    }

    /// Cases with several images, for every kernel that runs by chunk.
    static let cases: [EquivalenceCase] = [
        equivalenceCases[0],  // softmax from logits, per batch
        equivalenceCases[1],  // softmax per image, an all-ignored image
        equivalenceCases[7],  // softmax from probabilities (transpose only)
        equivalenceCases[10],  // hinge (no back-propagation kernel)
        equivalenceCases[14],  // sigmoid from logits
        equivalenceCases[15],  // sigmoid from probabilities
    ]

    @Test("one image per chunk, through pinned memory or not, equals the CPU path",
          arguments: [true, false], cases)
    func chunkedEqualsCPU(staged: Bool, testCase: EquivalenceCase) throws {
        try expectEquivalent(testCase, engine: Self.chunkedEngine(staged: staged))
    }

    @Test("a non-finite score in a later chunk is found and named")
    func nonFiniteInLaterChunk() throws {
        let engine = try Self.chunkedEngine(staged: true)
        var scores = [Float](repeating: 0.5, count: 3 * 2 * 4)
        scores[21] = -.infinity  // image 2, class 1, pixel 1
        scores[23] = .nan
        let labels = [Int32](repeating: 1, count: 3 * 4)
        #expect(throws: LovaszError.nonFiniteScore(position: [2, 1, 1], value: -.infinity)) {
            _ = try engine.lossAndGradient(scores: scores, shape: [3, 2, 4], labels: labels, options: .softmax())
        }
    }

    @Test("per-phase device times name every phase of a softmax call with its gradient")
    func phaseTimes() throws {
        let engine = try Self.chunkedEngine(staged: true)
        let testCase = equivalenceCases[1]
        let (scores, labels) = testCase.makeInputs()
        let times = try scores.withUnsafeBufferPointer { scores in
            try labels.withUnsafeBufferPointer { labels in
                try engine.phaseTimes(scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
            }
        }
        #expect(times.phases.map(\.name) == PipelinePhase.allCases.map(\.rawValue))
        #expect(times.phases.allSatisfy { $0.commands >= 1 && $0.seconds >= 0 })
        // One upload, one validation, one softmax and one back-propagation per image.
        #expect(times.phases.first { $0.name == "upload" }.map { $0.commands >= testCase.shape[0] } == true)
        #expect(times.lines.count == PipelinePhase.allCases.count + 1)
        #expect(throws: LovaszError.self) {
            try scores.withUnsafeBufferPointer { scores in
                try labels.withUnsafeBufferPointer { labels in
                    _ = try cpuEngine.phaseTimes(scores: scores, shape: testCase.shape, labels: labels, options: testCase.options)
                }
            }
        }
    }
}
