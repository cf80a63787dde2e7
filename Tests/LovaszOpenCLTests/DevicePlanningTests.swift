import Testing
@testable import Lovasz

/// Planning on the device for groups large enough to be planned one work-group per part
/// (`plan_labels_grouped_*`, `plan_valid_pixels_grouped`), against the CPU path.
@Suite("Planning on the device, one work-group per part", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct DevicePlanningTests {
    /// Label element types the planning kernels read as they are, and one widened on the host.
    enum LabelType: String, CaseIterable, Sendable { case uint8, int32, int64, int16 }

    /// [2, 5, 67, 73]: 4 891 pixels per image, 9 782 per batch, so both groupings have
    /// several parts and a last part that is not full.
    static let shape = [2, 5, 67, 73]

    static func labels(ignored: Double, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        let pixels = shape[0] * shape[2] * shape[3]
        return (0..<pixels).map { _ in
            Double.random(in: 0..<1, using: &rng) < ignored ? 255 : Int.random(in: 0..<shape[1], using: &rng)
        }
    }

    static func scores(seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<shape.reduce(1, *)).map { _ in Float.random(in: -3...3, using: &rng) }
    }

    static func compare<Label: FixedWidthInteger>(_ labels: [Label], options: LossOptions) throws {
        let engine = try #require(openCLEngine)
        let scores = Self.scores(seed: 3)
        let (gpu, gpuGradient) = try engine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(scores: scores, shape: shape, labels: labels, options: options)
        #expect(gpu.backend == .opencl)
        #expect(gpu.classesCounted == cpu.classesCounted)
        #expect(gpu.segments == cpu.segments)
        #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3), "\(gpu.loss) vs \(cpu.loss)")
        let worst = zip(gpuGradient, cpuGradient).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6)
    }

    @Test("counts, ignored pixels and the valid-pixel list equal the CPU's", arguments: LabelType.allCases, [false, true])
    func equalToCPU(_ type: LabelType, perImage: Bool) throws {
        let labels = Self.labels(ignored: 0.1, seed: 7)
        let options = LossOptions.softmax(perImage: perImage, ignoreIndex: 255)
        switch type {
        case .uint8: try Self.compare(labels.map { UInt8($0) }, options: options)
        case .int32: try Self.compare(labels.map { Int32($0) }, options: options)
        case .int64: try Self.compare(labels.map { Int64($0) }, options: options)
        case .int16: try Self.compare(labels.map { Int16($0) }, options: options)
        }
    }

    @Test("a class absent from a whole part, and no pixel ignored", arguments: [false, true])
    func absentClassNoIgnore(perImage: Bool) throws {
        // The first 4 096 pixels (one part) only use classes 0 and 1; no ignore index.
        let labels = Self.labels(ignored: 0, seed: 11).enumerated().map { $0.offset < 4096 ? Int32($0.element % 2) : Int32($0.element) }
        try Self.compare(labels, options: .softmax(perImage: perImage))
    }

    @Test("the first of several bad labels in different parts is named", arguments: LabelType.allCases)
    func firstBadLabel(_ type: LabelType) throws {
        let engine = try #require(openCLEngine)
        var labels = Self.labels(ignored: 0.05, seed: 5)
        labels[9000] = 7
        labels[5000] = 6
        labels[8100] = 9
        let options = LossOptions.softmax(ignoreIndex: 255)
        let scores = Self.scores(seed: 1)
        let expected = LovaszError.labelOutOfRange(
            position: ProblemShape.unravel(5000, in: [Self.shape[0]] + Self.shape.dropFirst(2)), label: "6", classes: 5)
        #expect(throws: expected) {
            switch type {
            case .uint8: _ = try engine.loss(scores: scores, shape: Self.shape, labels: labels.map { UInt8($0) }, options: options)
            case .int32: _ = try engine.loss(scores: scores, shape: Self.shape, labels: labels.map { Int32($0) }, options: options)
            case .int64: _ = try engine.loss(scores: scores, shape: Self.shape, labels: labels.map { Int64($0) }, options: options)
            case .int16: _ = try engine.loss(scores: scores, shape: Self.shape, labels: labels.map { Int16($0) }, options: options)
            }
        }
    }
}
