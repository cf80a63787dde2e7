import LovaszTestSupport
import Testing
@testable import Lovasz

/// 16-bit scores on the zero-copy path: a caller's float16 or bfloat16 buffer is widened on the
/// device, and the gradient is written as float32 or, in a buffer of the scores' type, rounded
/// once.
@Suite("Zero-copy with float16 and bfloat16 scores", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct ZeroCopyHalfPrecisionTests {
    /// The loss and gradients of 16-bit `narrow` scores on host-no-access buffers at nonzero
    /// offsets: the float32 gradient and the one rounded to `type`.
    static func run(
        _ narrow: [UInt16], type: DeviceElementType, shape: [Int], labels: [Int32], options: LossOptions,
        caller: CallerQueue, engine: LovaszEngine
    ) throws -> (loss: Double, gradient: [Float], narrowGradient: [UInt16]) {
        let align = try caller.alignment
        let count = narrow.count
        let scores = try caller.deviceBuffer(narrow, byteOffset: align)
        let labelBuffer = try caller.deviceBuffer(labels, byteOffset: 8)
        let gradient = try caller.deviceBuffer([Float](repeating: .nan, count: count), byteOffset: 2 * align)
        let narrowGradient = try caller.deviceBuffer([UInt16](repeating: 0x7E00, count: count), byteOffset: align)
        let scoreRange = range(scores, byteOffset: align, count: count, type)
        let labelRange = range(labelBuffer, byteOffset: 8, count: labels.count, .int32)
        let (result, _) = try engine.compute(
            scores: scoreRange, shape: shape, labels: labelRange, options: options,
            gradient: range(gradient, byteOffset: 2 * align, count: count, .float32))
        let (narrowResult, _) = try engine.compute(
            scores: scoreRange, shape: shape, labels: labelRange, options: options,
            gradient: range(narrowGradient, byteOffset: align, count: count, type))
        #expect(narrowResult.loss == result.loss)
        let staging = try CLBuffer(context: caller.context, byteCount: max(count * 2, 4))
        try staging.copy(from: narrowGradient, sourceByteOffset: align, byteCount: count * 2, on: caller.queue)
        let bits = try staging.read(UInt16.self, count: count, on: caller.queue)
        return (result.loss, try caller.floats(of: gradient, byteOffset: 2 * align, count: count), bits)
    }

    @Test("equal the host path on the widened float32 scores, the 16-bit gradient rounded once",
          arguments: [DeviceElementType.float16, .bfloat16], [LovaszLoss.softmax, .hinge, .sigmoid])
    func widened(type: DeviceElementType, loss: LovaszLoss) throws {
        let caller = try CallerQueue()
        let engine = try LovaszEngine(openCLQueue: caller.handle)
        let host = try #require(openCLEngine)
        let shape = loss == .softmax ? [3, 4, 5, 7] : [3, 5, 7]
        let count = shape.reduce(1, *)
        var random = SplitMix64(seed: 0x16_16 &+ UInt64(count))
        let floats = (0..<count).map { _ in random.uniform(-4, 4) }
        let classes = loss == .softmax ? shape[1] : 2
        let labels = (0..<(count / (loss == .softmax ? shape[1] : 1))).map { index in
            index % 9 == 4 ? Int32(255) : Int32(random.uniform(0, Float(classes)).rounded(.down)) % Int32(classes)
        }
        let options = LossOptions(loss: loss, perImage: true, ignoreIndex: 255)
        // The narrow values and their exact widening, computed here by Swift's own conversions.
        let narrow: [UInt16]
        let widened: [Float]
        if type == .float16 {
            let halves = floats.map { Float16($0) }
            narrow = halves.map(\.bitPattern)
            widened = halves.map { Float($0) }
        } else {
            let halves = floats.map { BFloat16(bitPattern: HalfPrecisionCheck.naiveBFloat16Bits($0)) }
            narrow = halves.map(\.bitPattern)
            widened = narrow.map { Float(bitPattern: UInt32($0) << 16) }
        }
        let device = try Self.run(narrow, type: type, shape: shape, labels: labels, options: options, caller: caller, engine: engine)
        let (expected, expectedGradient) = try host.lossAndGradient(scores: widened, shape: shape, labels: labels, options: options)
        #expect(device.loss == expected.loss)
        #expect(device.gradient == expectedGradient)
        let rounded = type == .float16
            ? expectedGradient.map { Float16($0).bitPattern }
            : expectedGradient.map { HalfPrecisionCheck.naiveBFloat16Bits($0) }
        #expect(device.narrowGradient == rounded)
    }

    @Test("a 16-bit gradient buffer of the other 16-bit type, and a NaN among 16-bit scores, are refused")
    func refusals() throws {
        let caller = try CallerQueue()
        let engine = try LovaszEngine(openCLQueue: caller.handle)
        let shape = [1, 2, 2, 2]
        var narrow = [UInt16](repeating: 0x3C00, count: 8)  // float16 1.0
        let labels = [Int32](repeating: 1, count: 4)
        let scores = try caller.deviceBuffer(narrow)
        let labelBuffer = try caller.deviceBuffer(labels)
        let gradient = try caller.deviceBuffer([UInt16](repeating: 0, count: 8))
        #expect(throws: LovaszError.self) {
            try engine.compute(
                scores: range(scores, count: 8, .float16), shape: shape, labels: range(labelBuffer, count: 4, .int32),
                options: .softmax(), gradient: range(gradient, count: 8, .bfloat16))
        }
        narrow[5] = 0x7E00  // a float16 NaN
        let bad = try caller.deviceBuffer(narrow)
        #expect {
            try engine.compute(
                scores: range(bad, count: 8, .float16), shape: shape, labels: range(labelBuffer, count: 4, .int32),
                options: .softmax())
        } throws: { error in
            guard case .nonFiniteScore(let position, let value) = error as? LovaszError else { return false }
            return position == [0, 1, 0, 1] && value.isNaN
        }
    }
}
