import Synchronization

/// Computes Lovász losses and their gradients on the CPU or through OpenCL.
///
/// An engine is created once and reused: the OpenCL backend keeps its compiled program and
/// device buffers between calls. Every method may be called from many threads at once.
///
/// ```swift
/// let engine = try LovaszEngine()                       // auto: a GPU if usable, else the CPU
/// let (result, gradient) = try engine.lossAndGradient(
///     scores: logits, shape: [8, 21, 321, 321], labels: labels,
///     options: .softmax(ignoreIndex: 255))
/// ```
public final class LovaszEngine: Sendable {
    /// The backend that was asked for.
    public let choice: BackendChoice
    /// The backend this engine computes with.
    public let backend: Backend
    /// The device it computes on, in words.
    public let device: String
    /// Why OpenCL is not used, when `auto` chose the CPU, or why the last call fell back to
    /// the CPU after an OpenCL failure; `nil` when OpenCL is used or the CPU was asked for.
    public var fallbackReason: String? { reason.withLock { $0 } }

    let cpu: CPUBackend
    let openCL: OpenCLBackend?
    private let reason: Mutex<String?>

    /// Creates an engine.
    ///
    /// - Parameters:
    ///   - choice: `auto` (default) uses a GPU through OpenCL when there is one and falls back
    ///     to the CPU with the reason in ``fallbackReason``; `cpu` never touches OpenCL;
    ///     `opencl` uses any OpenCL device (PoCL's CPU device included).
    ///   - threads: CPU threads per call; by default every online processor.
    ///   - device: an OpenCL device index as `lovasz devices` prints it (for example a
    ///     process's local rank), used whatever its kind instead of the automatic pick and
    ///     `LOVASZ_OPENCL_DEVICE`; `nil` (default) picks as described above. Ignored for `cpu`.
    /// - Throws: ``LovaszError/openCLUnavailable(_:)`` when `opencl` was asked for and no
    ///   device can be used (for `device`: it does not exist or is unusable).
    public init(backend choice: BackendChoice = .auto, threads: Int? = nil, device: Int? = nil) throws(LovaszError) {
        self.choice = choice
        self.cpu = CPUBackend(workers: threads)
        var fallback: String?
        var openCL: OpenCLBackend?
        if choice != .cpu {
            let selection = device.map { OpenCLDiscovery.system.selectDevice(index: $0) }
                ?? OpenCLDiscovery.system.selectDevice(for: choice)
            if let device = selection.device {
                do {
                    openCL = try OpenCLBackend.shared(for: device)
                } catch {
                    fallback = "OpenCL on \(device) failed: \(error)"
                }
            } else {
                fallback = selection.reason
            }
            if choice == .opencl, let fallback { throw .openCLUnavailable(fallback) }
        }
        self.openCL = openCL
        self.backend = openCL == nil ? .cpu : .opencl
        self.device = openCL?.device.description ?? cpu.deviceName
        self.reason = Mutex(fallback)
    }

    /// An engine on a given OpenCL backend (tests use it to run a backend with other limits).
    init(openCL backend: OpenCLBackend, threads: Int? = nil) throws(LovaszError) {
        self.choice = .opencl
        self.cpu = CPUBackend(workers: threads)
        self.openCL = backend
        self.backend = .opencl
        self.device = backend.device.description
        self.reason = Mutex(nil)
    }

    /// Computes a loss, and `∂loss/∂scores` into `gradient`, without copying the inputs.
    ///
    /// - Parameters:
    ///   - scores: scores in C order, `shape.reduce(1, *)` of them, all finite: `Float`,
    ///     `Float16` or ``BFloat16`` (taken as they are and widened to float32 exactly; the
    ///     OpenCL path uploads them narrow and widens on the device).
    ///   - shape: `[B, C, ...]` for softmax; `[B, ...]` or `[B, 1, ...]` for hinge and sigmoid.
    ///   - labels: one label per pixel (`B · Π spatial`), in `0..<C` (binary: 0 or 1) or
    ///     equal to `options.ignoreIndex`. Any integer type.
    ///   - options: the loss and its options.
    ///   - gradient: when given, receives `∂loss/∂scores` as float32 (as many as `scores`);
    ///     with respect to the logits when `options.scoresAre == .logits`. It may be the
    ///     scores' own memory (in place) or overlap it: the scores are then copied first.
    /// - Returns: the loss, the classes counted and the backend that computed it.
    /// - Throws: ``LovaszError`` naming the first bad position for non-finite scores,
    ///   probabilities outside `[0, 1]` (`scoresAre: .probabilities`) or out-of-range labels,
    ///   the problem for bad shapes or options, and ``LovaszError/outOfMemory(bytes:)`` when a
    ///   buffer cannot be allocated (the engine stays usable).
    ///
    /// Probabilities are used as given: softmax probabilities that do not sum to one over the
    /// classes are neither rejected nor normalised (as in the reference implementation's
    /// `lovasz_softmax` on probabilities); each class's errors are `1 - p` and `p` and the
    /// gradient is with respect to each probability on its own.
    public func compute<Scores: LovaszScalar, Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Scores>,
        shape: [Int],
        labels: UnsafeBufferPointer<Label>,
        options: LossOptions,
        gradient: UnsafeMutableBufferPointer<Float>? = nil
    ) throws(LovaszError) -> LossResult {
        try computeAny(scores: scores, shape: shape, labels: labels, options: options, gradient: gradient)
    }

    /// Computes a loss, and `∂loss/∂scores` in the scores' own type into `gradient`.
    ///
    /// The gradient is computed in float32 as for ``compute(scores:shape:labels:options:gradient:)``
    /// and rounded once, to nearest with ties to even, into `gradient`.
    /// - Parameter gradient: as many elements as `scores`.
    /// - Throws: as ``compute(scores:shape:labels:options:gradient:)``.
    public func compute<Scores: LovaszScalar, Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Scores>,
        shape: [Int],
        labels: UnsafeBufferPointer<Label>,
        options: LossOptions,
        gradientInScoreType gradient: UnsafeMutableBufferPointer<Scores>
    ) throws(LovaszError) -> LossResult {
        try computeAny(scores: scores, shape: shape, labels: labels, options: options, gradient: gradient)
    }

    private func computeAny<Scores: LovaszScalar, Gradient: LovaszScalar, Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Scores>, shape: [Int], labels: UnsafeBufferPointer<Label>, options: LossOptions,
        gradient: UnsafeMutableBufferPointer<Gradient>?
    ) throws(LovaszError) -> LossResult {
        if let gradient, Self.overlap(UnsafeRawBufferPointer(scores), UnsafeRawBufferPointer(gradient)) {
            // In place (or overlapping): the backends write the gradient while they still read
            // the scores, so they read a copy.
            let copy = try FallibleMemory.allocate(Scores.self, count: scores.count)
            defer { copy.deallocate() }
            _ = copy.initialize(from: scores)
            return try computeAny(
                scores: UnsafeBufferPointer(rebasing: copy[0..<scores.count]), shape: shape, labels: labels,
                options: options, gradient: gradient)
        }
        if let openCL {
            let problemShape = try ProblemShape(scores: shape, loss: options.loss)
            try LossProblem.checkCounts(scores: scores.count, labels: labels.count, shape: problemShape)
            if let gradient, gradient.count != scores.count {
                throw .invalidShape("the gradient buffer holds \(gradient.count) elements for \(scores.count) scores")
            }
            try checkProbabilities(scores, shape: problemShape, options: options)
            do throws(LovaszError) {
                let target = gradient.map { GradientBuffer(bytes: UnsafeMutableRawBufferPointer($0), type: Gradient.scoreType) }
                let planned = try openCL.compute(
                    scores: UnsafeRawBufferPointer(scores), type: Scores.scoreType, shape: problemShape, labels: labels,
                    options: options, gradient: target
                ).loss
                return LossResult(planned.plan, loss: planned.loss, backend: .opencl, device: device)
            } catch .openCL(let failure) where choice == .auto {
                reason.withLock { $0 = "OpenCL failed (\(failure)); this call ran on the CPU" }
            }
        }
        // Small calls map their labels on the calling thread alone, as the CPU path does.
        let mappers = scores.count < cpu.tuning.singleThreadedBelow ? 1 : cpu.workers
        let problem = try LossProblem(scores: scores, shape: shape, labels: labels, options: options, workers: mappers)
        if let gradient, gradient.count != scores.count {
            throw .invalidShape("the gradient buffer holds \(gradient.count) elements for \(scores.count) scores")
        }
        try checkProbabilities(scores, shape: problem.shape, options: options)
        let loss = try computeOnCPU(problem, scores: scores, gradient: gradient)
        return LossResult(problem.plan, loss: loss, backend: .cpu, device: cpu.deviceName)
    }

    /// The CPU path on float32: narrower scores are widened once, and a narrower gradient is
    /// rounded once from the float32 one.
    private func computeOnCPU<Scores: LovaszScalar, Gradient: LovaszScalar>(
        _ problem: LossProblem, scores: UnsafeBufferPointer<Scores>, gradient: UnsafeMutableBufferPointer<Gradient>?
    ) throws(LovaszError) -> Double {
        if Scores.self == Float.self, Gradient.self == Float.self {
            // Gradient is Float: the same memory, typed as such.
            return try cpu.compute(problem, gradient: gradient.map { UnsafeMutableRawBufferPointer($0).assumingMemoryBound(to: Float.self) })
        }
        var widened = try [Float](fallibleCapacity: scores.count)
        for score in scores { widened.append(score.floatValue) }
        var floatGradient = try [Float](fallibleRepeating: 0, count: gradient == nil ? 0 : scores.count)
        let loss = try widened.withUnsafeBufferPointer { (widened) throws(LovaszError) -> Double in
            try floatGradient.withUnsafeMutableBufferPointer { (floats) throws(LovaszError) -> Double in
                try cpu.compute(problem.withScores(widened), gradient: gradient == nil ? nil : floats)
            }
        }
        if let gradient {
            for i in gradient.indices { gradient[i] = Gradient(rounding: floatGradient[i]) }
        }
        return loss
    }

    /// Computes a loss from arrays.
    ///
    /// - Throws: as ``compute(scores:shape:labels:options:gradient:)``.
    public func loss<Label: FixedWidthInteger>(
        scores: [Float], shape: [Int], labels: [Label], options: LossOptions
    ) throws(LovaszError) -> LossResult {
        try scores.withUnsafeBufferPointer { (scores) throws(LovaszError) in
            try labels.withUnsafeBufferPointer { (labels) throws(LovaszError) in
                try compute(scores: scores, shape: shape, labels: labels, options: options)
            }
        }
    }

    /// Computes a loss and its gradient with respect to the scores, from arrays.
    ///
    /// - Returns: the result and `∂loss/∂scores`, shaped like `scores`.
    /// - Throws: as ``compute(scores:shape:labels:options:gradient:)``.
    public func lossAndGradient<Label: FixedWidthInteger>(
        scores: [Float], shape: [Int], labels: [Label], options: LossOptions
    ) throws(LovaszError) -> (result: LossResult, gradient: [Float]) {
        var gradient = [Float](repeating: 0, count: scores.count)
        let result = try scores.withUnsafeBufferPointer { (scores) throws(LovaszError) in
            try labels.withUnsafeBufferPointer { (labels) throws(LovaszError) in
                try gradient.withUnsafeMutableBufferPointer { (gradient) throws(LovaszError) in
                    try compute(scores: scores, shape: shape, labels: labels, options: options, gradient: gradient)
                }
            }
        }
        return (result, gradient)
    }
}

extension LovaszEngine {
    /// Whether two buffers share a byte.
    static func overlap(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let x = a.baseAddress, let y = b.baseAddress, !a.isEmpty, !b.isEmpty else { return false }
        return x < y + b.count && y < x + a.count
    }

    /// Throws for the first score outside `[0, 1]` when the scores are probabilities.
    ///
    /// - Throws: ``LovaszError/nonFiniteScore(position:value:)`` for NaN or infinity,
    ///   ``LovaszError/probabilityOutOfRange(position:value:)`` for another value outside.
    func checkProbabilities<Scores: LovaszScalar>(
        _ scores: UnsafeBufferPointer<Scores>, shape: ProblemShape, options: LossOptions
    ) throws(LovaszError) {
        guard options.scoresAre == .probabilities else { return }
        let found: (index: Int, value: Float)?
        if Scores.self == Float.self {
            let floats = UnsafeRawBufferPointer(scores).assumingMemoryBound(to: Float.self)
            found = firstOutsideUnitInterval(floats, workers: cpu.workers).map { ($0, floats[$0]) }
        } else {
            found = scores.firstIndex { !($0.floatValue >= 0 && $0.floatValue <= 1) }.map { ($0, scores[$0].floatValue) }
        }
        guard let (bad, value) = found else { return }
        if !value.isFinite { throw .nonFiniteScore(position: shape.scorePosition(bad), value: value) }
        throw .probabilityOutOfRange(position: shape.scorePosition(bad), value: value)
    }
}
