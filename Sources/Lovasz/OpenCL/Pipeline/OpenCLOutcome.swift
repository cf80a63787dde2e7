extension OpenCLPipeline {
    /// Reads back the validation status and the loss (waiting for the launch sequence): one
    /// wait, the status word's read being enqueued without waiting just before the losses'.
    func readOutcome(_ plan: SegmentPlan) throws(OpenCLError) -> OpenCLOutcome {
        queue.phase = .download
        let status = try buffers.buffer(.status, bytes: 4)
        let segmentCount = plan.segmentCount
        let word = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 4)
        word.storeBytes(of: UInt32.max, as: UInt32.self)
        defer { word.deallocate() }
        do throws(OpenCLError) {
            // The in-order queue finishes this read before the blocking read of the losses returns.
            _ = try status.read(into: word, on: queue.queue, blocking: segmentCount == 0)
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
            let firstBad = word.load(as: UInt32.self)
            return OpenCLOutcome(loss: total, firstBadScore: firstBad == UInt32.max ? nil : Int(firstBad))
        } catch {
            try? queue.queue.finish()  // `word` is not freed while its read may be in flight
            throw error
        }
    }
}

/// What one launch sequence read back.
struct OpenCLOutcome: Sendable {
    var loss: Double
    /// The flat index of the first bad score: NaN or infinite, or when the scores are
    /// probabilities, outside `[0, 1]`.
    var firstBadScore: Int?
}
