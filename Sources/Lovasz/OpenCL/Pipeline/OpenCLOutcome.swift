extension OpenCLPipeline {
    /// Reads back the validation status and the loss (waiting for the launch sequence).
    func readOutcome(_ plan: SegmentPlan) throws(OpenCLError) -> OpenCLOutcome {
        queue.phase = .download
        let status = try buffers.buffer(.status, bytes: 4)
        let firstBad = try queue.read(UInt32.self, count: 1, from: status)[0]
        let segmentCount = plan.segmentCount
        var total = 0.0
        if segmentCount > 0 {
            let losses = try buffers.buffer(.segmentLosses, bytes: segmentCount * accumulatorBytes)
            let sums: [Double] = configuration.doubleAccumulation
                ? try queue.read(Double.self, count: segmentCount, from: losses)
                : try queue.read(Float.self, count: segmentCount, from: losses).map(Double.init)
            var index = 0
            plan.forEachSegment { segment in
                total += segment.weight * sums[index]
                index += 1
            }
        }
        return OpenCLOutcome(loss: total, firstBadScore: firstBad == UInt32.max ? nil : Int(firstBad))
    }
}

/// What one launch sequence read back.
struct OpenCLOutcome: Sendable {
    var loss: Double
    /// The flat index of the first bad score: NaN or infinite, or when the scores are
    /// probabilities, outside `[0, 1]`.
    var firstBadScore: Int?
}
