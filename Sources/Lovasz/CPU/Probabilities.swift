/// The forward transforms of the CPU path: softmax over classes and the logistic sigmoid.
///
/// Both use ``PortableMath`` so that the probabilities are bit-identical to the OpenCL
/// kernels' (see `Kernels/lovasz_scores.cl`).
enum Probabilities {
    /// Pixels handled together by one task, so that class planes are read in runs.
    static let pixelChunk = 1024

    /// Writes `softmax(logits)` over the class axis of `[B, C, S]` into `out` (same layout).
    ///
    /// Per pixel: `m = max_c F(c)`, `e(c) = exp(F(c) - m)` in the portable exp, the sum taken
    /// in class order, and `e(c) / sum` correctly rounded, flushed below the smallest normal.
    static func softmax(
        logits: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
        shape: ProblemShape, workers: Int
    ) {
        let C = shape.channels, S = shape.spatial
        let chunksPerImage = (S + pixelChunk - 1) / pixelChunk
        parallelForEach(count: shape.batch * chunksPerImage, workers: workers) { _, item in
            let b = item / chunksPerImage
            let start = (item % chunksPerImage) * pixelChunk
            let length = min(pixelChunk, S - start)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * pixelChunk) { scratch in
                let maximum = scratch.baseAddress!
                let sum = maximum + pixelChunk
                let base = b * C * S + start
                for i in 0..<length { maximum[i] = logits[base + i] }
                for c in 1..<max(C, 1) {
                    let plane = base + c * S
                    for i in 0..<length {
                        let v = logits[plane + i]
                        maximum[i] = v > maximum[i] ? v : maximum[i]
                    }
                }
                for i in 0..<length { sum[i] = 0 }
                for c in 0..<C {
                    let plane = base + c * S
                    for i in 0..<length {
                        let e = PortableMath.expNonPositive(logits[plane + i] - maximum[i])
                        out[plane + i] = e
                        sum[i] += e
                    }
                }
                for c in 0..<C {
                    let plane = base + c * S
                    for i in 0..<length {
                        out[plane + i] = PortableMath.flushSubnormal(out[plane + i] / sum[i])
                    }
                }
            }
        }
    }

    /// Writes `sigmoid(logits)` into `out`, element by element.
    static func sigmoid(
        logits: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>, workers: Int
    ) {
        parallelChunks(count: logits.count, chunk: 1 << 15, workers: workers) { range in
            for i in range { out[i] = PortableMath.sigmoid(logits[i]) }
        }
    }
}
