import CLovaszCPU

/// The last step of the CPU path: from `∂loss/∂(probability)` to `∂loss/∂scores`.
enum Backpropagation {
    /// Writes `∂loss/∂scores` (`[B, C, S]`) into `gradient`.
    ///
    /// - Parameters:
    ///   - upstream: class-major `[C][B·S]` derivatives with respect to the probabilities
    ///     (softmax, sigmoid) or the logits (hinge). For the hinge, and the sigmoid from
    ///     probabilities, this is `gradient` itself and nothing is left to do.
    ///   - gradient: on entry, the probabilities when the scores are logits.
    ///   - vectorForms: softmax runs through `lovasz_cpu_softmax_backward` (AVX2; the same
    ///     operations in the same order as the loops here, so the same bits).
    static func run(
        loss: LovaszLoss, logits: Bool, shape: ProblemShape,
        upstream: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>,
        workers: Int, vectorForms: Bool = CPUVectorForms.available
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
            softmax(
                logits: logits, shape: shape, upstream: upstream, gradient: gradient, workers: workers,
                vectorForms: vectorForms)
        }
    }

    /// Softmax: `∂/∂F(k) = f(k) · (G(k) - Σ_c f(c) G(c))` from logits, `G(k)` from probabilities.
    private static func softmax(
        logits: Bool, shape: ProblemShape,
        upstream: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>,
        workers: Int, vectorForms: Bool
    ) {
        let C = shape.channels, S = shape.spatial, pixels = shape.pixelCount
        let chunk = Probabilities.pixelChunk
        Probabilities.forEachPixelRun(shape: shape, workers: workers) { b, start, length in
            let output = gradient.baseAddress! + (b * C * S + start)
            let incoming = upstream.baseAddress! + (b * S + start)
            guard logits else {
                for c in 0..<C {
                    let target = output + c * S, source = incoming + c * pixels
                    for i in 0..<length { target[i] = source[i] }
                }
                return
            }
            if vectorForms {
                lovasz_cpu_softmax_backward(output, incoming, length, C, S, pixels)
                return
            }
            // Plane pointers keep index arithmetic out of the inner loops so they vectorize.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { scratch in
                let dot = scratch.baseAddress!
                for i in 0..<length { dot[i] = 0 }
                for c in 0..<C {
                    let probability = output + c * S, source = incoming + c * pixels
                    for i in 0..<length { dot[i] += probability[i] * source[i] }
                }
                for c in 0..<C {
                    let target = output + c * S, source = incoming + c * pixels
                    for i in 0..<length { target[i] = target[i] * (source[i] - dot[i]) }
                }
            }
        }
    }
}
