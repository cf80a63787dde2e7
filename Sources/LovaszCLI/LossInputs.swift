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
    /// Every header is read and checked, against the others too, before any data is read:
    /// a mismatch costs no large read or allocation.
    ///
    /// - Throws: ``CommandFailure`` with status 2 naming the file and the problem: unreadable
    ///   or malformed `.npy`, scores that are not floating point, labels that are not
    ///   integers, label and score shapes that do not fit `loss`, weights that are not 1-d,
    ///   data that does not fit in memory.
    init(scoresPath: String, labelsPath: String, classWeightsPath: String?, loss: LovaszLoss) throws(CommandFailure) {
        let scoresFile = try Self.open(scoresPath, role: "scores")
        guard scoresFile.dtype.scalarType.isFloatingPoint else {
            throw .badInput(
                "the scores '\(scoresPath)' hold \(scoresFile.dtype); scores must be float32 or float16 (float64 is converted)")
        }
        let labelsFile = try Self.open(labelsPath, role: "labels")
        guard labelsFile.dtype.scalarType.isInteger || labelsFile.dtype.scalarType == .bool else {
            throw .badInput("the labels '\(labelsPath)' hold \(labelsFile.dtype); labels must be integers (any integer dtype, or bool)")
        }
        try Self.checkShapes(
            scores: scoresFile.shape, labels: labelsFile.shape, loss: loss, scoresPath: scoresPath, labelsPath: labelsPath)
        let weightsFile = try classWeightsPath.map { (path) throws(CommandFailure) in try Self.open(path, role: "class weights") }
        if let weightsFile, weightsFile.shape.count != 1 || weightsFile.dtype.scalarType == .bool {
            throw .badInput(
                "the class weights '\(weightsFile.path)' are \(weightsFile.dtype) of shape \(weightsFile.shape.bracketed); "
                    + "they must be a 1-d numeric array of one weight per class")
        }

        let scores = try Self.read(scoresFile, role: "scores")
        let labels = try Self.read(labelsFile, role: "labels")
        self.classWeights = try weightsFile.map { (file) throws(CommandFailure) in
            Self.floats(try Self.read(file, role: "class weights").elements) ?? []
        }
        self.scores = scores.floats ?? []
        self.scoreShape = scores.shape
        self.scoreType = scores.dtype
        if case .bool(let flags) = labels.elements {
            self.labels = .uint8(flags.map { $0 ? 1 : 0 })
        } else {
            self.labels = labels.elements
        }
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
        var gradient = wantsGradient && !inScoreType ? try [Float](fallibleRepeating: 0, count: values.count) : nil
        var typed = wantsGradient && inScoreType ? try [Scalar](fallibleRepeating: Scalar(rounding: 0), count: values.count) : nil
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

    /// Where the gradient goes, checked before any work (see ``FileOutput``).
    static func gradientOutput(_ path: String) throws(CommandFailure) -> FileOutput {
        do {
            return try FileOutput(path: path)
        } catch {
            guard case .cannotWrite(_, let reason) = error else { throw .badInput("\(error)") }
            throw .badInput("cannot write the gradient to '\(path)': \(reason)")
        }
    }

    private static func open(_ path: String, role: String) throws(CommandFailure) -> NumPyFile {
        do {
            return try NumPyFile(path: path)
        } catch {
            throw failure(error, path: path, role: role)
        }
    }

    private static func read(_ file: NumPyFile, role: String) throws(CommandFailure) -> NumPyArray {
        do {
            return try file.read()
        } catch {
            throw failure(error, path: file.path, role: role)
        }
    }

    private static func failure(_ error: NumPyError, path: String, role: String) -> CommandFailure {
        if case .cannotRead(_, let reason) = error { return .badInput("cannot read the \(role) '\(path)': \(reason)") }
        return .badInput("the \(role) '\(path)': \(error)")
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
