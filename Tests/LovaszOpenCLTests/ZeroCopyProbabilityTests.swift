import LovaszTestSupport
import Testing
@testable import Lovasz

/// Scores given as probabilities on the zero-copy path: a value outside `[0, 1]` is found on
/// the device (integer bit tests) and reported as the host path reports it, naming the first
/// bad position and its value; 0, -0 and 1 are accepted.
@Suite("Zero-copy probabilities outside [0, 1]", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct ZeroCopyProbabilityTests {
    /// Softmax scores [2, 3, 2, 3] (labels [2, 2, 3]) or sigmoid scores [2, 3, 4].
    static func shape(_ loss: LovaszLoss) -> [Int] { loss == .softmax ? [2, 3, 2, 3] : [2, 3, 4] }

    /// Probabilities in `(0, 1)` as floats exactly representable in `type`, and labels.
    static func problem(_ loss: LovaszLoss, _ type: DeviceElementType) -> (scores: [Float], labels: [Int32]) {
        let shape = shape(loss)
        let count = shape.reduce(1, *)
        var random = SplitMix64(seed: 0x0B_AD_01 &+ UInt64(count))
        let scores = (0..<count).map { _ in
            let p = random.uniform(0.01, 0.99)
            return type == .float16 ? Float(Float16(p)) : p
        }
        let classes = loss == .softmax ? shape[1] : 2
        let labels = (0..<(count / (loss == .softmax ? shape[1] : 1))).map { _ in Int32(random.below(classes)) }
        return (scores, labels)
    }

    /// `scores` on a host-no-access buffer as `type` (float32, or float16 from the exactly
    /// representable values), then the loss on the engine over `caller`.
    static func compute(
        _ scores: [Float], type: DeviceElementType, loss: LovaszLoss, labels: [Int32], gradient: Bool = true
    ) throws(LovaszError) -> LossResult {
        let made: (CallerQueue, LovaszEngine, CLBuffer, CLBuffer, CLBuffer)
        do {
            let caller = try CallerQueue()
            let engine = try LovaszEngine(openCLQueue: caller.handle)
            let buffer = type == .float16
                ? try caller.deviceBuffer(scores.map { Float16($0).bitPattern }) : try caller.deviceBuffer(scores)
            made = (caller, engine, buffer, try caller.deviceBuffer(labels), try caller.deviceBuffer([Float](repeating: 0, count: scores.count)))
        } catch {
            Issue.record("setting up the device buffers failed: \(error)")
            throw .openCLUnavailable("\(error)")
        }
        let (_, engine, scoreBuffer, labelBuffer, gradientBuffer) = made
        let options = LossOptions(loss: loss, scoresAre: .probabilities)
        return try engine.compute(
            scores: range(scoreBuffer, count: scores.count, type), shape: shape(loss),
            labels: range(labelBuffer, count: labels.count, .int32), options: options,
            gradient: gradient ? range(gradientBuffer, count: scores.count, .float32) : nil
        ).result
    }

    /// A value just above 1, a negative one (the smallest below -0 among them), NaN and
    /// infinity, each as the first of two bad values; the value named is `type`'s, widened.
    @Test(
        "the first bad value is named with its position and value",
        arguments: [DeviceElementType.float32, .float16], [LovaszLoss.softmax, .sigmoid])
    func rejected(type: DeviceElementType, loss: LovaszLoss) throws {
        let (scores, labels) = Self.problem(loss, type)
        let half = { (value: Float16) in Float(value) }
        let bad: [Float] = type == .float16
            ? [half(Float16(1).nextUp), half(-0.25), half(-Float16.leastNonzeroMagnitude), .infinity, 2]
            : [Float(1).nextUp, -0.25, -Float.leastNonzeroMagnitude, .infinity, 2]
        for value in bad {
            var withBad = scores
            withBad[13] = value
            withBad[17] = 7  // a later bad value is not the one named
            let position = ProblemShape.unravel(13, in: Self.shape(loss))
            let expected: LovaszError = value.isFinite
                ? .probabilityOutOfRange(position: position, value: value) : .nonFiniteScore(position: position, value: value)
            #expect(throws: expected) { try Self.compute(withBad, type: type, loss: loss, labels: labels) }
            #expect(throws: expected) { try Self.compute(withBad, type: type, loss: loss, labels: labels, gradient: false) }
            // The host path throws the same error.
            #expect(throws: expected) {
                try cpuEngine.loss(scores: withBad, shape: Self.shape(loss), labels: labels, options: LossOptions(loss: loss, scoresAre: .probabilities))
            }
        }
        var withNaN = scores
        withNaN[13] = .nan
        #expect {
            try Self.compute(withNaN, type: type, loss: loss, labels: labels)
        } throws: { error in
            guard case .nonFiniteScore(let position, let value) = error as? LovaszError else { return false }
            return position == ProblemShape.unravel(13, in: Self.shape(loss)) && value.isNaN
        }
    }

    @Test("0, -0 and 1 are accepted: the loss is the naive one", arguments: [DeviceElementType.float32, .float16], [LovaszLoss.softmax, .sigmoid])
    func accepted(type: DeviceElementType, loss: LovaszLoss) throws {
        var (scores, labels) = Self.problem(loss, type)
        scores[0] = 0
        scores[5] = -0.0
        scores[9] = 1
        scores[scores.count - 1] = 1
        let result = try Self.compute(scores, type: type, loss: loss, labels: labels)
        let naive = NaiveLovasz.loss(
            scores: scores, shape: Self.shape(loss), labels: labels, options: LossOptions(loss: loss, scoresAre: .probabilities))
        #expect(abs(result.loss - naive.loss) <= 1e-5 * max(1, abs(naive.loss)), "\(result.loss) vs \(naive.loss)")
    }
}
