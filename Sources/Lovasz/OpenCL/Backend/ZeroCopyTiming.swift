// Benchmark timing of the zero-copy path, outside the production code path: used by
// `lovasz bench` and the tests only (package access, not public API).

extension LovaszEngine {
    /// Times the zero-copy path, for benchmarks: the scores and labels are copied once into
    /// device buffers of the engine's context, then each of `repetitions` calls of
    /// ``compute(scores:shape:labels:options:gradient:waitFor:returnEvent:)`` computes the loss
    /// and the gradient there and leaves the gradient on the device: what a training step whose
    /// tensors live on the GPU pays.
    ///
    /// - Parameter repetitions: timed calls, at least 1 (one untimed call warms up first).
    /// - Returns: the wall-clock seconds of each call and the loss.
    /// - Throws: ``LovaszError/openCLUnavailable(_:)`` when the engine does not use OpenCL, and
    ///   as the zero-copy ``compute(scores:shape:labels:options:gradient:waitFor:returnEvent:)``.
    package func zeroCopyTimes<Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Float>, shape: [Int], labels: UnsafeBufferPointer<Label>,
        options: LossOptions, repetitions: Int
    ) throws(LovaszError) -> (seconds: [Double], loss: Double) {
        guard let openCL else {
            throw .openCLUnavailable(fallbackReason ?? "the engine computes on the CPU")
        }
        let problemShape = try ProblemShape(scores: shape, loss: options.loss)
        try LossProblem.checkCounts(scores: scores.count, labels: labels.count, shape: problemShape)
        let copies = try openCL.deviceCopies(scores: scores, labels: labels)
        let scoreRange = OpenCLDeviceBuffer(memory: copies.scores, count: scores.count, elementType: .float32)
        let labelRange = OpenCLDeviceBuffer(memory: copies.labels, count: labels.count, elementType: copies.labelType)
        let gradientRange = OpenCLDeviceBuffer(memory: copies.gradient, count: scores.count, elementType: .float32)
        var loss = try compute(scores: scoreRange, shape: shape, labels: labelRange, options: options, gradient: gradientRange).result.loss
        let clock = ContinuousClock()
        var seconds: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let start = clock.now
            loss = try compute(scores: scoreRange, shape: shape, labels: labelRange, options: options, gradient: gradientRange).result.loss
            let elapsed = clock.now - start
            seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        withExtendedLifetime(copies) {}
        return (seconds, loss)
    }
}
