import Foundation
import Lovasz
import LovaszNumPy

/// The `.npy` inputs of `lovasz loss`, read and checked against each other.
struct LossInputs {
    /// The scores, as `Float`, and their shape as stored.
    let scores: [Float]
    let scoreShape: [Int]
    /// The dtype the scores were stored in (for messages about converted values).
    let scoreType: NumPyDType
    /// The labels in their stored integer type (bool is read as `UInt8`).
    let labels: NumPyElements
    /// The class weights, when a file was given.
    let classWeights: [Float]?

    /// Reads the files and checks dtypes and shapes.
    ///
    /// - Throws: ``CommandFailure`` with status 2 naming the file and the problem: unreadable
    ///   or malformed `.npy`, scores that are not floating point, labels that are not
    ///   integers, label and score shapes that do not fit `loss`, weights that are not 1-d.
    init(scoresPath: String, labelsPath: String, classWeightsPath: String?, loss: LovaszLoss) throws(CommandFailure) {
        let scores = try Self.read(scoresPath, role: "scores")
        guard let values = scores.floats else {
            throw .badInput(
                "the scores '\(scoresPath)' hold \(scores.dtype); scores must be float32 or float16 (float64 is converted)")
        }
        let labels = try Self.read(labelsPath, role: "labels")
        guard labels.dtype.scalarType.isInteger || labels.dtype.scalarType == .bool else {
            throw .badInput("the labels '\(labelsPath)' hold \(labels.dtype); labels must be integers (any integer dtype, or bool)")
        }
        try Self.checkShapes(scores: scores.shape, labels: labels.shape, loss: loss, scoresPath: scoresPath, labelsPath: labelsPath)

        var weights: [Float]?
        if let classWeightsPath {
            let file = try Self.read(classWeightsPath, role: "class weights")
            guard file.shape.count == 1, let converted = Self.floats(file.elements) else {
                throw .badInput(
                    "the class weights '\(classWeightsPath)' are \(file.dtype) of shape \(file.shape.bracketed); "
                        + "they must be a 1-d numeric array of one weight per class")
            }
            weights = converted
        }
        self.scores = values
        self.scoreShape = scores.shape
        self.scoreType = scores.dtype
        if case .bool(let flags) = labels.elements {
            self.labels = .uint8(flags.map { $0 ? 1 : 0 })
        } else {
            self.labels = labels.elements
        }
        self.classWeights = weights
    }

    /// The result of one computation.
    struct Outcome {
        let result: LossResult
        let gradient: [Float]?
        /// The gradient as float16 bit patterns, when asked in the scores' dtype and the scores
        /// are float16.
        let float16Gradient: [UInt16]?
        /// Seconds spent in the engine (not reading or writing files).
        let seconds: Double
    }

    /// Computes the loss, and the gradient when asked, with the labels in their own type;
    /// float16 scores are passed as float16 (exactly the file's values).
    ///
    /// - Parameter gradientInScoreType: the gradient in the scores' dtype (float16 scores
    ///   only; float32 otherwise), rounded once from the float32 gradient.
    /// - Throws: ``LovaszError`` from the engine (bad labels, NaN scores, bad options), or a
    ///   ``CommandFailure`` for a non-finite value that appeared converting float64.
    func compute(
        with engine: LovaszEngine, options: LossOptions, gradient wantsGradient: Bool, gradientInScoreType: Bool = false
    ) throws -> Outcome {
        do {
            #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            if scoreType.scalarType == .float16 {
                let half = scores.map { Float16($0) }  // exact: the file's own values
                return try compute(half, engine, options, wantsGradient, inScoreType: gradientInScoreType)
            }
            #endif
            return try compute(scores, engine, options, wantsGradient, inScoreType: false)
        } catch {
            guard case .nonFiniteScore = error, scoreType.scalarType == .float64 else { throw error }
            throw CommandFailure.badInput("\(error) (after converting the \(scoreType) scores to float32)")
        }
    }

    private func compute<Scalar: LovaszScalar>(
        _ values: [Scalar], _ engine: LovaszEngine, _ options: LossOptions, _ wantsGradient: Bool, inScoreType: Bool
    ) throws(LovaszError) -> Outcome {
        var gradient = wantsGradient && !inScoreType ? [Float](repeating: 0, count: values.count) : nil
        var typed = wantsGradient && inScoreType ? [Scalar](repeating: Scalar(rounding: 0), count: values.count) : nil
        let clock = ContinuousClock()
        let start = clock.now
        let result = try values.withUnsafeBufferPointer { (scores) throws(LovaszError) in
            switch labels {
            case .int8(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .int16(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .int32(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .int64(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .uint8(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .uint16(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .uint32(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .uint64(let v): return try run(engine, scores, v, options, &gradient, &typed)
            case .float, .bool:
                throw .invalidOption("the labels are not integers")  // excluded by init
            }
        }
        let seconds = start.duration(to: clock.now) / .seconds(1)
        let bits = typed.map { $0.map { value in withUnsafeBytes(of: value) { $0.load(as: UInt16.self) } } }
        return Outcome(result: result, gradient: gradient, float16Gradient: bits, seconds: seconds)
    }

    private func run<Scalar: LovaszScalar, Label: FixedWidthInteger>(
        _ engine: LovaszEngine, _ scores: UnsafeBufferPointer<Scalar>, _ labels: [Label],
        _ options: LossOptions, _ gradient: inout [Float]?, _ typed: inout [Scalar]?
    ) throws(LovaszError) -> LossResult {
        let shape = scoreShape
        return try labels.withUnsafeBufferPointer { (labels) throws(LovaszError) in
            if typed != nil {
                return try typed!.withUnsafeMutableBufferPointer { (out) throws(LovaszError) in
                    try engine.compute(scores: scores, shape: shape, labels: labels, options: options, gradientInScoreType: out)
                }
            }
            guard gradient != nil else {
                return try engine.compute(scores: scores, shape: shape, labels: labels, options: options)
            }
            return try gradient!.withUnsafeMutableBufferPointer { (out) throws(LovaszError) in
                try engine.compute(scores: scores, shape: shape, labels: labels, options: options, gradient: out)
            }
        }
    }

    /// Fails unless a file can be created at `path`: its directory exists and it is not one.
    static func checkWritable(_ path: String) throws(CommandFailure) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .badInput("cannot write the gradient to '\(path)': it is a directory")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .badInput("cannot write the gradient to '\(path)': the directory '\(parent)' does not exist")
        }
    }

    private static func read(_ path: String, role: String) throws(CommandFailure) -> NumPyArray {
        do {
            return try NumPyArray(contentsOfFile: path)
        } catch {
            if case .cannotRead(_, let reason) = error {
                throw .badInput("cannot read the \(role) '\(path)': \(reason)")
            }
            throw .badInput("the \(role) '\(path)': \(error)")
        }
    }

    private static func checkShapes(
        scores: [Int], labels: [Int], loss: LovaszLoss, scoresPath: String, labelsPath: String
    ) throws(CommandFailure) {
        let scoresText = "the \(loss) scores '\(scoresPath)' of shape \(scores.bracketed)"
        let labelsText = "the labels '\(labelsPath)' have shape \(labels.bracketed)"
        if loss == .softmax {
            guard scores.count >= 2 else {
                throw .badInput("\(scoresText) are not [B, C, ...]")
            }
            let expected = [scores[0]] + scores.dropFirst(2)
            guard labels == expected else {
                throw .badInput("\(labelsText) but \(scoresText) need labels of shape \(expected.bracketed)")
            }
            return
        }
        guard !scores.isEmpty else { throw .badInput("\(scoresText) are 0-d; expected [B, ...]") }
        if labels == scores { return }
        let squeezed = scores.count >= 2 && scores[1] == 1 ? [scores[0]] + scores.dropFirst(2) : nil
        if labels == squeezed { return }
        let alternative = squeezed.map { " (or \($0.bracketed))" } ?? ""
        throw .badInput("\(labelsText) but \(scoresText) need labels of shape \(scores.bracketed)\(alternative)")
    }

    /// Numeric elements as `Float` (integers converted), `nil` for bool.
    private static func floats(_ elements: NumPyElements) -> [Float]? {
        switch elements {
        case .float(let v): return v
        case .bool: return nil
        case .int8(let v): return v.map(Float.init)
        case .int16(let v): return v.map(Float.init)
        case .int32(let v): return v.map(Float.init)
        case .int64(let v): return v.map(Float.init)
        case .uint8(let v): return v.map(Float.init)
        case .uint16(let v): return v.map(Float.init)
        case .uint32(let v): return v.map(Float.init)
        case .uint64(let v): return v.map(Float.init)
        }
    }
}
