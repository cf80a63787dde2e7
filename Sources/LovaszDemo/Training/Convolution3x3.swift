/// 3x3 convolutions with zero padding ("same" size) over one image `[channels, height, width]`,
/// written over raw buffers with 8-wide SIMD inner loops.
///
/// Weights are `[out, in, 3, 3]`. Each function handles a band of rows so that callers can
/// split an image between threads.
enum Convolution3x3 {
    /// `output[o, y, :] = bias[o] + Σ_i Σ_k w[o, i, ky, kx] · input[i, y + ky − 1, : + kx − 1]`
    /// for the rows `rows` (overwritten).
    static func forward(
        input: UnsafePointer<Float>, inChannels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, outChannels: Int,
        height: Int, width: Int, rows: Range<Int>
    ) {
        let plane = height * width
        for y in rows {
            for o in 0..<outChannels {
                let out = output + o * plane + y * width
                out.update(repeating: bias?[o] ?? 0, count: width)
                for i in 0..<inChannels {
                    let kernel = weights + (o * inChannels + i) * 9
                    for ky in 0..<3 {
                        let sourceRow = y + ky - 1
                        guard sourceRow >= 0 && sourceRow < height else { continue }
                        let source = input + i * plane + sourceRow * width
                        // kx = 0 reads x − 1, kx = 1 reads x, kx = 2 reads x + 1.
                        axpy(kernel[ky * 3], source, out + 1, width - 1)
                        axpy(kernel[ky * 3 + 1], source, out, width)
                        axpy(kernel[ky * 3 + 2], source + 1, out, width - 1)
                    }
                }
            }
        }
    }

    /// The weights of the transposed convolution: `[in, out, 3, 3]` with each kernel rotated by
    /// 180°, so that `forward` with them maps an output gradient to the input gradient.
    static func transposedWeights(_ weights: [Float], inChannels: Int, outChannels: Int) -> [Float] {
        var result = [Float](repeating: 0, count: weights.count)
        for o in 0..<outChannels {
            for i in 0..<inChannels {
                for k in 0..<9 { result[(i * outChannels + o) * 9 + 8 - k] = weights[(o * inChannels + i) * 9 + k] }
            }
        }
        return result
    }

    /// Adds `Σ_{y ∈ rows, x} outputGradient[o, y, x] · input[i, y + ky − 1, x + kx − 1]` to
    /// `weightGradient[o, i, ky, kx]`, and the row sums of `outputGradient` to `biasGradient`.
    static func accumulateWeightGradient(
        input: UnsafePointer<Float>, inChannels: Int,
        outputGradient: UnsafePointer<Float>, outChannels: Int,
        height: Int, width: Int, rows: Range<Int>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>
    ) {
        let plane = height * width
        for y in rows {
            for o in 0..<outChannels {
                let gradient = outputGradient + o * plane + y * width
                biasGradient[o] += sum(gradient, width)
                for i in 0..<inChannels {
                    let kernel = weightGradient + (o * inChannels + i) * 9
                    for ky in 0..<3 {
                        let sourceRow = y + ky - 1
                        guard sourceRow >= 0 && sourceRow < height else { continue }
                        let source = input + i * plane + sourceRow * width
                        kernel[ky * 3] += dot(gradient + 1, source, width - 1)
                        kernel[ky * 3 + 1] += dot(gradient, source, width)
                        kernel[ky * 3 + 2] += dot(gradient, source + 1, width - 1)
                    }
                }
            }
        }
    }
}

/// `y[0..<n] += a · x[0..<n]`.
@inline(__always)
func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let scale = SIMD8<Float>(repeating: a)
    while i + 8 <= n {
        let xs = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        let ys = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: ys + scale * xs, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += a * x[i]; i += 1 }
}

/// `Σ x[i]·y[i]` over `0..<n`, accumulated in 8 lanes.
@inline(__always)
func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = lanes.sum()
    while i < n { total += x[i] * y[i]; i += 1 }
    return total
}

/// `Σ x[i]` over `0..<n`, accumulated in 8 lanes.
@inline(__always)
func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = lanes.sum()
    while i < n { total += x[i]; i += 1 }
    return total
}
