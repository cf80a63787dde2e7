public import CLovaszAPI
import Lovasz

@_cdecl("lovasz_compute")
public func lovaszCompute(
    _ handle: OpaquePointer?,
    _ loss: Int32,
    _ scores: UnsafePointer<Float>?,
    _ shape: UnsafePointer<Int64>?,
    _ rank: Int32,
    _ labels: UnsafeRawPointer?,
    _ labelType: Int32,
    _ options: UnsafePointer<lovasz_options>?,
    _ gradient: UnsafeMutablePointer<Float>?,
    _ lossOut: UnsafeMutablePointer<Double>?,
    _ message: UnsafeMutablePointer<CChar>?,
    _ messageSize: Int
) -> Int32 {
    lovaszComputeTyped(
        handle, loss, UnsafeRawPointer(scores), LOVASZ_SCORES_FLOAT32, shape, rank, labels, labelType, options,
        UnsafeMutableRawPointer(gradient), 0, lossOut, message, messageSize)
}

@_cdecl("lovasz_compute_typed")
public func lovaszComputeTyped(
    _ handle: OpaquePointer?,
    _ loss: Int32,
    _ scores: UnsafeRawPointer?,
    _ scoreType: Int32,
    _ shape: UnsafePointer<Int64>?,
    _ rank: Int32,
    _ labels: UnsafeRawPointer?,
    _ labelType: Int32,
    _ options: UnsafePointer<lovasz_options>?,
    _ gradient: UnsafeMutableRawPointer?,
    _ gradientInScoreType: Int32,
    _ lossOut: UnsafeMutablePointer<Double>?,
    _ message: UnsafeMutablePointer<CChar>?,
    _ messageSize: Int
) -> Int32 {
    reportingStatus(into: message, size: messageSize) { () throws(CallFailure) in
        guard let engine = engine(from: handle) else { throw .badInput("the engine is NULL") }
        let kind = try lossKind(loss)
        let dimensions = try dimensions(shape, rank: rank)
        let counts = try elementCounts(dimensions, loss: kind)
        guard let scores else { throw .badInput("the scores pointer is NULL") }
        guard let labels else { throw .badInput("the labels pointer is NULL") }
        let lossOptions = try (options?.pointee ?? .defaults).lossOptions(for: kind)
        let call = TypedCall(
            engine: engine, scores: scores, count: counts.scores, shape: dimensions, options: lossOptions,
            gradient: gradient, gradientInScoreType: gradientInScoreType != 0)

        func run<Label: FixedWidthInteger>(_ type: Label.Type) throws(CallFailure) -> Double {
            let labelBuffer = UnsafeBufferPointer(start: labels.assumingMemoryBound(to: Label.self), count: counts.labels)
            switch scoreType {
            case LOVASZ_SCORES_FLOAT32: return try call.run(Float.self, labels: labelBuffer)
            case LOVASZ_SCORES_FLOAT16: return try call.runFloat16(labels: labelBuffer)
            case LOVASZ_SCORES_BFLOAT16: return try call.run(BFloat16.self, labels: labelBuffer)
            default:
                throw .badInput("unknown score_type \(scoreType); expected 0 (float32), 1 (float16) or 2 (bfloat16)")
            }
        }
        let value: Double
        switch labelType {
        case LOVASZ_LABELS_INT32: value = try run(Int32.self)
        case LOVASZ_LABELS_INT64: value = try run(Int64.self)
        case LOVASZ_LABELS_UINT8: value = try run(UInt8.self)
        default: throw .badInput("unknown label_type \(labelType); expected 0 (int32), 1 (int64) or 2 (uint8)")
        }
        lossOut?.pointee = value
    }
}

/// One `lovasz_compute_typed` call, run for the scores' element type.
private struct TypedCall {
    let engine: LovaszEngine
    let scores: UnsafeRawPointer
    let count: Int
    let shape: [Int]
    let options: LossOptions
    let gradient: UnsafeMutableRawPointer?
    let gradientInScoreType: Bool

    /// The loss of scores of type `Scalar`, the gradient in float32 or in `Scalar`.
    func run<Scalar: LovaszScalar, Label: FixedWidthInteger>(
        _ type: Scalar.Type, labels: UnsafeBufferPointer<Label>
    ) throws(CallFailure) -> Double {
        let scoreBuffer = UnsafeBufferPointer(start: scores.assumingMemoryBound(to: Scalar.self), count: count)
        do {
            if gradientInScoreType, let gradient {
                let typed = UnsafeMutableBufferPointer(start: gradient.assumingMemoryBound(to: Scalar.self), count: count)
                return try engine.compute(
                    scores: scoreBuffer, shape: shape, labels: labels, options: options, gradientInScoreType: typed
                ).loss
            }
            let floats = gradient.map { UnsafeMutableBufferPointer(start: $0.assumingMemoryBound(to: Float.self), count: count) }
            return try engine.compute(scores: scoreBuffer, shape: shape, labels: labels, options: options, gradient: floats).loss
        } catch {
            throw CallFailure(error)
        }
    }

    /// float16 scores, where the platform has `Float16`.
    func runFloat16<Label: FixedWidthInteger>(labels: UnsafeBufferPointer<Label>) throws(CallFailure) -> Double {
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        return try run(Float16.self, labels: labels)
        #else
        throw .badInput("float16 scores are not supported on this platform")
        #endif
    }
}

/// The loss named by a `LOVASZ_LOSS_*` value.
func lossKind(_ value: Int32) throws(CallFailure) -> LovaszLoss {
    switch value {
    case LOVASZ_LOSS_SOFTMAX: return .softmax
    case LOVASZ_LOSS_HINGE: return .hinge
    case LOVASZ_LOSS_SIGMOID: return .sigmoid
    default: throw .badInput("unknown loss \(value); expected 0 (softmax), 1 (hinge) or 2 (sigmoid)")
    }
}

/// The caller's shape, checked for a null pointer, a rank below 1 and negative dimensions.
func dimensions(_ shape: UnsafePointer<Int64>?, rank: Int32) throws(CallFailure) -> [Int] {
    guard rank >= 1 else { throw .badInput("invalid shape: rank \(rank); the scores need at least one dimension") }
    guard let shape else { throw .badInput("the shape pointer is NULL") }
    let dimensions = UnsafeBufferPointer(start: shape, count: Int(rank)).map { Int($0) }
    if let axis = dimensions.firstIndex(where: { $0 < 0 }) {
        throw .badInput("invalid shape: dimension \(axis) is negative (\(dimensions[axis]))")
    }
    return dimensions
}

/// How many scores and labels the caller's buffers hold for this shape.
///
/// Labels are one per pixel: the scores without the class axis for softmax, the scores for the
/// binary losses. Empty or malformed shapes give counts the engine then rejects with a message.
func elementCounts(_ dimensions: [Int], loss: LovaszLoss) throws(CallFailure) -> (scores: Int, labels: Int) {
    var scores = 1
    for d in dimensions {
        let (product, overflow) = scores.multipliedReportingOverflow(by: d)
        guard !overflow else { throw .badInput("invalid shape: the scores are too large") }
        scores = product
    }
    guard loss == .softmax, dimensions.count >= 2, dimensions[1] > 0 else { return (scores, scores) }
    return (scores, scores / dimensions[1])
}
