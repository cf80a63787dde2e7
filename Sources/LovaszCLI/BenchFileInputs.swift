import Lovasz

/// Reads the `.npy` inputs of `lovasz bench --scores S.npy --labels Y.npy`.
enum BenchFileInputs {
    /// Reads and checks the files and returns the case to time.
    ///
    /// - Throws: ``BenchFailure`` with status 2 naming the file and the problem: unreadable or
    ///   malformed `.npy`, scores that are not floating point, labels that are not integers,
    ///   shapes that do not fit the loss, class weights that are not a 1-d numeric array.
    static func load(
        scoresPath: String, labelsPath: String, classWeightsPath: String?, options: LossOptions
    ) throws(BenchFailure) -> BenchCase {
        let scores = try read(scoresPath, role: "scores")
        guard let values = scores.floats else {
            throw .badInput("the scores '\(scoresPath)' hold \(scores.dtype); scores must be float32 (float16 and float64 are converted)")
        }
        let labels = try read(labelsPath, role: "labels")
        try checkShapes(scores: scores.shape, labels: labels.shape, loss: options.loss, labelsPath: labelsPath)
        var options = options
        if let classWeightsPath {
            let weights = try read(classWeightsPath, role: "class weights")
            guard weights.shape.count == 1, let converted = floats(weights.elements) else {
                throw .badInput("the class weights '\(classWeightsPath)' must be a 1-d numeric array of one weight per class")
            }
            options.classWeights = converted
        }
        let name = String(scoresPath.split(separator: "/").last ?? Substring(scoresPath))
        func make<Label: FixedWidthInteger>(_ labels: [Label]) -> BenchCase {
            BenchCase(workload: name, data: "file", shape: scores.shape, options: options, scores: values, labels: labels)
        }
        switch labels.elements {
        case .int8(let v): return make(v)
        case .int16(let v): return make(v)
        case .int32(let v): return make(v)
        case .int64(let v): return make(v)
        case .uint8(let v): return make(v)
        case .uint16(let v): return make(v)
        case .uint32(let v): return make(v)
        case .uint64(let v): return make(v)
        case .bool(let v): return make(v.map { $0 ? UInt8(1) : 0 })
        case .float:
            throw .badInput("the labels '\(labelsPath)' hold \(labels.dtype); labels must be integers (any integer dtype, or bool)")
        }
    }

    private static func read(_ path: String, role: String) throws(BenchFailure) -> NumPyArray {
        do {
            return try NumPyArray(contentsOfFile: path)
        } catch {
            if case .cannotRead(_, let reason) = error { throw .badInput("cannot read the \(role) '\(path)': \(reason)") }
            throw .badInput("the \(role) '\(path)': \(error)")
        }
    }

    /// Labels are the scores' shape without the class axis (softmax), or the scores' shape,
    /// or `[B, ...]` for binary scores `[B, 1, ...]`.
    private static func checkShapes(scores: [Int], labels: [Int], loss: LovaszLoss, labelsPath: String) throws(BenchFailure) {
        var expected: [[Int]] = []
        if loss == .softmax {
            if scores.count >= 2 { expected = [[scores[0]] + scores.dropFirst(2)] }
        } else {
            expected = [scores]
            if scores.count >= 2 && scores[1] == 1 { expected.append([scores[0]] + scores.dropFirst(2)) }
        }
        guard expected.contains(labels) else {
            let wanted = expected.isEmpty ? "[B, C, ...] scores" : "labels of shape " + expected.map(format).joined(separator: " or ")
            throw .badInput("the labels '\(labelsPath)' have shape \(format(labels)); \(loss) scores of shape \(format(scores)) need \(wanted)")
        }
    }

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

    static func format(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
