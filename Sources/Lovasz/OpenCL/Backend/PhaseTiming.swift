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
        let problemShape = try ProblemShape(scores: shape, loss: options.loss)
        try LossProblem.checkCounts(scores: scores.count, labels: labels.count, shape: problemShape)
        var gradient = [Float](repeating: 0, count: scores.count)
        let phases = try gradient.withUnsafeMutableBufferPointer { (gradient) throws(LovaszError) -> PhaseTimes? in
            let target = GradientBuffer(bytes: UnsafeMutableRawBufferPointer(gradient), type: .float32)
            return try openCL.compute(
                scores: UnsafeRawBufferPointer(scores), type: .float32, shape: problemShape, labels: labels,
                options: options, gradient: target, profile: true
            ).phases
        }
        guard let phases else { throw .openCLUnavailable("the call was not profiled") }
        return phases
    }

    /// The device time of each phase of one zero-copy call (the inputs copied once into
    /// device buffers first, the gradient left there), for `lovasz bench --phases`.
    ///
    /// - Throws: ``LovaszError/openCLUnavailable(_:)`` when the engine does not use OpenCL or
    ///   runs on a caller's queue, and as ``compute(scores:shape:labels:options:gradient:)``.
    package func zeroCopyPhaseTimes<Label: FixedWidthInteger>(
        scores: UnsafeBufferPointer<Float>, shape: [Int], labels: UnsafeBufferPointer<Label>, options: LossOptions
    ) throws(LovaszError) -> PhaseTimes {
        guard let openCL else {
            throw .openCLUnavailable(fallbackReason ?? "the engine computes on the CPU")
        }
        let problemShape = try ProblemShape(scores: shape, loss: options.loss)
        try LossProblem.checkCounts(scores: scores.count, labels: labels.count, shape: problemShape)
        let copies = try openCL.deviceCopies(scores: scores, labels: labels)
        let outcome = try openCL.compute(
            scores: OpenCLDeviceBuffer(memory: copies.scores, count: scores.count, elementType: .float32),
            shape: problemShape,
            labels: OpenCLDeviceBuffer(memory: copies.labels, count: labels.count, elementType: copies.labelType),
            options: options,
            gradient: OpenCLDeviceBuffer(memory: copies.gradient, count: scores.count, elementType: .float32),
            waitFor: [], completionEvent: false, profile: true)
        withExtendedLifetime(copies) {}
        guard let phases = outcome.phases else { throw .openCLUnavailable("the call was not profiled") }
        return phases
    }
}
