import Lovasz
import LovaszWorkloads

/// One problem `lovasz bench` times: scores, labels of any integer type and options.
struct BenchCase {
    /// The workload's name (a standard workload, or the scores file's name).
    let workload: String
    /// The data model (`random`, `trained`), or `file` for inputs read from `.npy` files.
    let data: String
    /// The shape of the scores.
    let shape: [Int]
    /// The loss options.
    let options: LossOptions
    /// The number of scores, and of gradient entries.
    let scoreCount: Int
    private let body: (LovaszEngine, UnsafeMutableBufferPointer<Float>) throws(LovaszError) -> LossResult
    private let zeroCopyBody: (LovaszEngine, Int) throws(LovaszError) -> [Double]
    private let phaseBody: (LovaszEngine) throws(LovaszError) -> (hostArrays: PhaseTimes, zeroCopy: PhaseTimes)

    /// A case whose labels keep their own integer type, so that the engine sees them as stored.
    ///
    /// - Parameter classes: `C` for softmax (the shape's axis 1); ignored for binary losses.
    init<Label: FixedWidthInteger>(
        workload: String, data: String, shape: [Int], options: LossOptions, scores: [Float], labels: [Label]
    ) {
        self.workload = workload
        self.data = data
        self.shape = shape
        self.options = options
        self.scoreCount = scores.count
        self.body = { (engine, gradient) throws(LovaszError) in
            try scores.withUnsafeBufferPointer { (scores) throws(LovaszError) in
                try labels.withUnsafeBufferPointer { (labels) throws(LovaszError) in
                    try engine.compute(scores: scores, shape: shape, labels: labels, options: options, gradient: gradient)
                }
            }
        }
        self.zeroCopyBody = { (engine, repetitions) throws(LovaszError) in
            try scores.withUnsafeBufferPointer { (scores) throws(LovaszError) in
                try labels.withUnsafeBufferPointer { (labels) throws(LovaszError) in
                    try engine.zeroCopyTimes(
                        scores: scores, shape: shape, labels: labels, options: options, repetitions: repetitions
                    ).seconds
                }
            }
        }
        self.phaseBody = { (engine) throws(LovaszError) in
            try scores.withUnsafeBufferPointer { (scores) throws(LovaszError) in
                try labels.withUnsafeBufferPointer { (labels) throws(LovaszError) in
                    (try engine.phaseTimes(scores: scores, shape: shape, labels: labels, options: options),
                     try engine.zeroCopyPhaseTimes(scores: scores, shape: shape, labels: labels, options: options))
                }
            }
        }
    }

    /// Inputs read from `.npy` files, the labels in their stored integer type.
    init(workload: String, inputs: LossInputs, options: LossOptions) {
        func make<Label: FixedWidthInteger>(_ labels: [Label]) -> BenchCase {
            BenchCase(workload: workload, data: "file", shape: inputs.scoreShape, options: options, scores: inputs.scores, labels: labels)
        }
        switch inputs.labels {
        case .int8(let v): self = make(v)
        case .int16(let v): self = make(v)
        case .int32(let v): self = make(v)
        case .int64(let v): self = make(v)
        case .uint8(let v): self = make(v)
        case .uint16(let v): self = make(v)
        case .uint32(let v): self = make(v)
        case .uint64(let v): self = make(v)
        case .bool(let v): self = make(v.map { $0 ? UInt8(1) : 0 })
        case .float(let v): self = make(v.map { Int64(exactly: $0) ?? .min })  // excluded by LossInputs
        }
    }

    /// A standard workload's generated inputs (labels `UInt8`).
    init(_ inputs: BenchInputs) {
        self.init(
            workload: inputs.workload.name, data: inputs.data.rawValue, shape: inputs.shape,
            options: inputs.workload.options, scores: inputs.scores, labels: inputs.labels)
    }

    /// Computes the loss, and its gradient into `gradient` (`scoreCount` floats), without
    /// copying the inputs.
    func compute(engine: LovaszEngine, gradient: UnsafeMutableBufferPointer<Float>) throws(LovaszError) -> LossResult {
        try body(engine, gradient)
    }

    /// Seconds of `repetitions` zero-copy calls: the engine's compute on device buffers, the
    /// gradient left on the device (only the plan's counts and the loss read back).
    ///
    /// - Throws: ``LovaszError/openCLUnavailable(_:)`` when the engine computes on the CPU.
    func zeroCopySeconds(engine: LovaszEngine, repetitions: Int) throws(LovaszError) -> [Double] {
        try zeroCopyBody(engine, repetitions)
    }

    /// The device time of each phase of one OpenCL call on host arrays
    /// (``LovaszEngine/phaseTimes(scores:shape:labels:options:)``) and of one zero-copy call.
    func phaseTimes(engine: LovaszEngine) throws(LovaszError) -> (hostArrays: PhaseTimes, zeroCopy: PhaseTimes) {
        try phaseBody(engine)
    }

    /// The bytes of the float32 scores, and equally of the gradient.
    var scoreBytes: Int { scoreCount * MemoryLayout<Float>.stride }
}

/// Where a case's inputs come from; they are made only when the case is about to run, so
/// that one case's inputs are released before the next one's exist.
enum BenchCaseSource {
    /// A standard workload filled with seeded data.
    case generated(BenchWorkload, BenchDataModel, seed: UInt64)
    /// `.npy` files with the loss options given on the command line.
    case files(scores: String, labels: String, loss: LossOptionArguments)

    /// Generates or reads the inputs.
    ///
    /// - Throws: ``CommandFailure`` (status 2) for files that cannot be used.
    func prepare() throws(CommandFailure) -> BenchCase {
        switch self {
        case .generated(let workload, let model, let seed):
            StandardError.print("lovasz bench: generating \(workload.name) \(model.rawValue) \(workload.shape.bracketed)")
            return BenchCase(BenchInputs(workload: workload, data: model, seed: seed))
        case .files(let scores, let labels, let loss):
            StandardError.print("lovasz bench: reading \(scores) and \(labels)")
            let inputs = try LossInputs(
                scoresPath: scores, labelsPath: labels, classWeightsPath: loss.classWeights, loss: loss.chosenLoss)
            let options = loss.options(classWeights: inputs.classWeights)
            let name = String(scores.split(separator: "/").last ?? Substring(scores))
            return BenchCase(workload: name, inputs: inputs, options: options)
        }
    }
}
