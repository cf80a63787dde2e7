/// Benchmark timing with the inputs and the gradient left on the device: what a training
/// step whose tensors live on the GPU would pay. Not part of the loss path.
extension OpenCLBackend {
    /// Uploads `problem`'s inputs once, then times `repetitions` launch sequences that
    /// compute the loss and the gradient, leaving the gradient on the device.
    ///
    /// - Returns: the seconds of each repetition (wall clock, from the first enqueue to the
    ///   loss read back), and the loss.
    /// - Throws: as ``compute(_:gradient:)``.
    func residentTimes(_ problem: LossProblem, repetitions: Int) throws(LovaszError) -> (seconds: [Double], loss: Double) {
        let clock = ContinuousClock()
        let (seconds, outcome) = try withPipeline { (pipeline) throws(OpenCLError) -> ([Double], OpenCLOutcome) in
            let inputs = try pipeline.upload(problem)
            _ = try pipeline.launch(problem, inputs: inputs, gradientType: .float32)
            var last = try pipeline.readOutcome(problem)
            var seconds: [Double] = []
            for _ in 0..<repetitions {
                let start = clock.now
                _ = try pipeline.launch(problem, inputs: inputs, gradientType: .float32)
                last = try pipeline.readOutcome(problem)
                let elapsed = clock.now - start
                seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            }
            return (seconds, last)
        }
        return (seconds, try Self.loss(of: outcome, for: problem))
    }
}

extension LovaszEngine {
    /// The device time of each phase of one OpenCL loss-and-gradient call on host arrays
    /// (upload, plan, keys, sort, scan+gradient, back-propagation, download), from OpenCL
    /// event profiling, for `lovasz bench --phases`.
    ///
    /// - Throws: ``LovaszError/openCLUnavailable(_:)`` when the engine does not use OpenCL, and
    ///   as ``compute(scores:shape:labels:options:gradient:)``.
    package func phaseTimes<Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Float>, shape: [Int], labels: UnsafeBufferPointer<Label>, options: LossOptions
    ) throws(LovaszError) -> PhaseTimes {
        guard let openCL else {
            throw .openCLUnavailable(fallbackReason ?? "the engine computes on the CPU")
        }
        let problem = try LossProblem(scores: scores, shape: shape, labels: labels, options: options)
        var gradient = [Float](repeating: 0, count: problem.shape.scoreCount)
        let (outcome, phases) = try gradient.withUnsafeMutableBufferPointer { (gradient) throws(LovaszError) in
            let target = GradientBuffer(bytes: UnsafeMutableRawBufferPointer(gradient), type: .float32)
            return try openCL.withPipeline { (pipeline) throws(OpenCLError) in
                try pipeline.profiled { () throws(OpenCLError) in
                    try pipeline.run(problem, gradient: target)
                }
            }
        }
        _ = try OpenCLBackend.loss(of: outcome, for: problem)
        return phases
    }

    /// Times the OpenCL launch sequence with its inputs already on the device, for benchmarks
    /// (`lovasz bench`).
    ///
    /// The scores and labels are uploaded once; each of the `repetitions` runs then computes
    /// the loss and the gradient on the device, leaving the gradient there, and reads back the
    /// loss. Compare it with the time of ``compute(scores:shape:labels:options:gradient:)``,
    /// which adds the transfers.
    ///
    /// - Parameter repetitions: timed runs, at least 1.
    /// - Returns: the wall-clock seconds of each run and the loss.
    /// - Throws: ``LovaszError/openCLUnavailable(_:)`` when the engine does not use OpenCL, and
    ///   as ``compute(scores:shape:labels:options:gradient:)``.
    package func deviceResidentTimes<Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Float>, shape: [Int], labels: UnsafeBufferPointer<Label>,
        options: LossOptions, repetitions: Int
    ) throws(LovaszError) -> (seconds: [Double], loss: Double) {
        guard let openCL else {
            throw .openCLUnavailable(fallbackReason ?? "the engine computes on the CPU")
        }
        let problem = try LossProblem(scores: scores, shape: shape, labels: labels, options: options)
        return try openCL.residentTimes(problem, repetitions: max(1, repetitions))
    }
}
