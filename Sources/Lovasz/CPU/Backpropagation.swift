/// The last step of the CPU path: from `∂loss/∂(probability)` to `∂loss/∂scores`.
enum Backpropagation {
    /// Writes `∂loss/∂scores` (`[B, C, S]`) into `gradient`.
    ///
    /// - Parameters:
    ///   - upstream: class-major `[C][B·S]` derivatives with respect to the probabilities
    ///     (softmax, sigmoid) or the logits (hinge). For the hinge, and the sigmoid from
    ///     probabilities, this is `gradient` itself and nothing is left to do.
    ///   - gradient: on entry, the probabilities when the scores are logits.
    static func run(
        loss: LovaszLoss, logits: Bool, shape: ProblemShape,
        upstream: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>,
        workers: Int
    ) {
        switch (loss, logits) {
        case (.hinge, _), (.sigmoid, false):
            return
        case (.sigmoid, true):
            parallelChunks(count: gradient.count, chunk: 1 << 15, workers: workers) { range in
                for i in range {
                    let p = gradient[i]
                    gradient[i] = upstream[i] * (p * (1 - p))
                }
            }
        case (.softmax, _):
            softmax(logits: logits, shape: shape, upstream: upstream, gradient: gradient, workers: workers)
        }
    }

    /// Softmax: `∂/∂F(k) = f(k) · (G(k) - Σ_c f(c) G(c))` from logits, `G(k)` from probabilities.
    private static func softmax(
        logits: Bool, shape: ProblemShape,
        upstream: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>,
        workers: Int
    ) {
        let C = shape.channels, S = shape.spatial, pixels = shape.pixelCount
        let chunk = Probabilities.pixelChunk
        let chunksPerImage = (S + chunk - 1) / chunk
        parallelForEach(count: shape.batch * chunksPerImage, workers: workers) { _, item in
            let b = item / chunksPerImage
            let start = (item % chunksPerImage) * chunk
            let length = min(chunk, S - start)
            let base = b * C * S + start
            let upstreamBase = b * S + start
            guard logits else {
                for c in 0..<C {
                    for i in 0..<length { gradient[base + c * S + i] = upstream[c * pixels + upstreamBase + i] }
                }
                return
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { dot in
                for i in 0..<length { dot[i] = 0 }
                for c in 0..<C {
                    for i in 0..<length {
                        dot[i] += gradient[base + c * S + i] * upstream[c * pixels + upstreamBase + i]
                    }
                }
                for c in 0..<C {
                    for i in 0..<length {
                        let f = gradient[base + c * S + i]
                        gradient[base + c * S + i] = f * (upstream[c * pixels + upstreamBase + i] - dot[i])
                    }
                }
            }
        }
    }
}
