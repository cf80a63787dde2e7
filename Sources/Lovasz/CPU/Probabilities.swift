import CLovaszCPU
import Synchronization

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
    /// With `vectorForms`, each run of pixels goes to `lovasz_cpu_softmax` (AVX2, the same
    /// operations in the same order, so the same bits); else the loops below, which the compiler
    /// vectorizes for the baseline processor.
    ///
    /// - Parameter foreground: when given, each run's foreground bests are recorded into the
    ///   table while the run's probabilities are in cache (`classOf`: class per pixel, `[B, S]`).
    /// - Returns: whether a logit was NaN or infinite (tested on its bits while the maximum is
    ///   taken, so validation costs no pass of its own); `out` is then meaningless.
    static func softmax(
        logits: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
        shape: ProblemShape, workers: Int, vectorForms: Bool = CPUVectorForms.available,
        foreground: (bests: ForegroundBests, classOf: ClassIndices)? = nil
    ) -> Bool {
        let sawNonFinite = Atomic<Bool>(false)
        let C = shape.channels, S = shape.spatial
        forEachPixelRun(shape: shape, workers: workers) { b, start, length in
            defer {
                if let foreground {
                    foreground.bests.record(
                        probabilities: out.baseAddress! + b * C * S, classes: foreground.classOf, image: b, start: start,
                        length: length)
                }
            }
            if vectorForms {
                let input = logits.baseAddress! + (b * C * S + start)
                let output = out.baseAddress! + (b * C * S + start)
                if lovasz_cpu_softmax(input, output, length, C, S) != 0 { sawNonFinite.store(true, ordering: .relaxed) }
                return
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * pixelChunk) { scratch in
                // Plane pointers keep index arithmetic out of the inner loops so they vectorize.
                let maximum = scratch.baseAddress!
                let sum = maximum + pixelChunk
                let input = logits.baseAddress! + (b * C * S + start)
                let output = out.baseAddress! + (b * C * S + start)
                var exponents: UInt32 = 0
                for i in 0..<length {
                    maximum[i] = input[i]
                    exponents |= (input[i].bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0
                }
                for c in 1..<max(C, 1) {
                    let plane = input + c * S
                    for i in 0..<length {
                        let v = plane[i]
                        maximum[i] = v > maximum[i] ? v : maximum[i]
                        exponents |= (v.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0
                    }
                }
                if exponents != 0 { sawNonFinite.store(true, ordering: .relaxed) }
                for i in 0..<length { sum[i] = 0 }
                for c in 0..<C {
                    let plane = input + c * S
                    let target = output + c * S
                    for i in 0..<length {
                        let e = PortableMath.expNonPositive(plane[i] - maximum[i])
                        target[i] = e
                        sum[i] += e
                    }
                }
                for c in 0..<C {
                    let target = output + c * S
                    for i in 0..<length {
                        target[i] = PortableMath.flushSubnormal(target[i] / sum[i])
                    }
                }
            }
        }
        return sawNonFinite.load(ordering: .relaxed)
    }

    /// Calls `body(image, start, length)` in parallel for runs of at most ``pixelChunk`` pixels
    /// of one image that cover every image; images smaller than a run are handed out several
    /// to a task, so that a batch of tiny images pays no per-image task overhead.
    ///
    /// Each thread takes the runs of its own contiguous share from the front, and a thread out
    /// of runs helps another from the back of its share (``parallelForEachInShares``): the
    /// softmax and the back-propagation of every call then split the pixels the same way, and a
    /// thread mostly reads and writes lines it wrote itself, in its own cache. Runs handed out
    /// one at a time went to either thread, and about half of the lines passed between cores on
    /// each pass. Measured on the Intel Xeon VM, the 2×3×200×200 confident call on two threads
    /// (`perf` samples against the same call on one thread): the back-propagation's thread time
    /// 1.9-2.0x its one-thread time before, 1.15-1.2x after; the softmax's 1.08-1.09x before,
    /// 0.93-0.98x after. Alternating processes against runs handed out one at a time: that call
    /// 1.06-1.075x faster (24 pairs), VOC per batch random 1.09-1.12x and trained 0.995-1.03x
    /// (8 pairs each).
    static func forEachPixelRun(shape: ProblemShape, workers: Int, _ body: (_ image: Int, _ start: Int, _ length: Int) -> Void) {
        let S = shape.spatial, B = shape.batch
        let imagesPerTask = max(1, pixelChunk / max(S, 1))
        let chunksPerImage = (S + pixelChunk - 1) / pixelChunk
        let count = imagesPerTask > 1 ? (B + imagesPerTask - 1) / imagesPerTask : B * chunksPerImage
        @inline(__always) func run(_ item: Int) {
            if imagesPerTask > 1 {
                for b in item * imagesPerTask ..< min(B, (item + 1) * imagesPerTask) { body(b, 0, S) }
            } else {
                let start = (item % chunksPerImage) * pixelChunk
                body(item / chunksPerImage, start, min(pixelChunk, S - start))
            }
        }
        parallelForEachInShares(count: count, workers: workers) { run($0) }
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

/// Whether the CPU path's C loops run their vector (AVX2) forms on this processor.
enum CPUVectorForms {
    static let available = lovasz_cpu_has_vector_forms() != 0
}
