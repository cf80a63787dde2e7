import LovaszWorkloads

/// The small network of the training demo:
/// `logits = x + conv₂(relu(conv₁(x)))`, with `x` the `C`-channel features, `conv₁` a 3x3
/// convolution to `hidden` channels and `conv₂` a 3x3 convolution back to `C` channels.
///
/// Its receptive field is 5x5, enough to average away most of the feature noise away from
/// the boundaries. `conv₂` starts near zero, so the untrained network predicts the arg-max
/// of the noisy features.
struct ResidualConvNet {
    let channels: Int
    let hidden: Int
    /// Every parameter in one vector, for the optimiser: `w₁ [hidden, C, 3, 3]`, `b₁ [hidden]`,
    /// `w₂ [C, hidden, 3, 3]`, `b₂ [C]`.
    var parameters: [Float]

    var w1Range: Range<Int> { 0 ..< hidden * channels * 9 }
    var b1Range: Range<Int> { w1Range.upperBound ..< w1Range.upperBound + hidden }
    var w2Range: Range<Int> { b1Range.upperBound ..< b1Range.upperBound + channels * hidden * 9 }
    var b2Range: Range<Int> { w2Range.upperBound ..< w2Range.upperBound + channels }

    /// He-initialised `conv₁`, `conv₂` with standard deviation 0.01, zero biases.
    init(channels: Int, hidden: Int, seed: UInt64) {
        self.channels = channels
        self.hidden = hidden
        var random = SeededRandom(seed: seed)
        let count = hidden * channels * 9 * 2 + hidden + channels
        parameters = [Float](repeating: 0, count: count)
        let scale1 = (2.0 / Double(channels * 9)).squareRoot()
        for i in 0 ..< hidden * channels * 9 { parameters[i] = Float(scale1 * random.normal()) }
        let start2 = hidden * channels * 9 + hidden
        for i in start2 ..< start2 + channels * hidden * 9 { parameters[i] = Float(0.01 * random.normal()) }
    }
}

/// The activations and gradients of one batch, kept between steps to avoid reallocating.
final class ConvNetWorkspace {
    let batch: Int, channels: Int, hidden: Int, height: Int, width: Int
    /// `[batch, C, H, W]`
    var input: [Float]
    /// `relu(conv₁(x))`, `[batch, hidden, H, W]`
    var activation: [Float]
    /// `[batch, C, H, W]`
    var logits: [Float]
    /// `∂loss/∂logits`, `[batch, C, H, W]`
    var logitGradient: [Float]
    /// `∂loss/∂activation`, `[batch, hidden, H, W]`
    var activationGradient: [Float]

    init(batch: Int, channels: Int, hidden: Int, height: Int, width: Int) {
        self.batch = batch
        self.channels = channels
        self.hidden = hidden
        self.height = height
        self.width = width
        let plane = height * width
        input = [Float](repeating: 0, count: batch * channels * plane)
        activation = [Float](repeating: 0, count: batch * hidden * plane)
        logits = [Float](repeating: 0, count: batch * channels * plane)
        logitGradient = [Float](repeating: 0, count: batch * channels * plane)
        activationGradient = [Float](repeating: 0, count: batch * hidden * plane)
    }

    /// Row bands per image, so that small batches still use every processor.
    private var bands: Int { max(1, min(height, (2 * onlineProcessors + batch - 1) / batch)) }

    private func rows(band: Int) -> Range<Int> {
        (band * height / bands) ..< ((band + 1) * height / bands)
    }

    /// Computes `activation` and `logits` from `input`.
    func forward(_ net: ResidualConvNet) {
        let plane = height * width, (c, h) = (channels, hidden)
        let (height, width, bands) = (self.height, self.width, self.bands)
        // conv₁ and ReLU, then conv₂ (which reads neighbouring rows of every band).
        input.withUnsafeBufferPointer { input in
            activation.withUnsafeMutableBufferPointer { activation in
                net.parameters.withUnsafeBufferPointer { p in
                    let w1 = p.baseAddress! + net.w1Range.lowerBound, b1 = p.baseAddress! + net.b1Range.lowerBound
                    parallelTasks(batch * bands) { task in
                        let image = task / bands, rows = self.rows(band: task % bands)
                        let out = activation.baseAddress! + image * h * plane
                        Convolution3x3.forward(
                            input: input.baseAddress! + image * c * plane, inChannels: c, weights: w1, bias: b1,
                            output: out, outChannels: h, height: height, width: width, rows: rows)
                        for channel in 0..<h {
                            let row = out + channel * plane + rows.lowerBound * width
                            for i in 0 ..< rows.count * width where row[i] < 0 { row[i] = 0 }
                        }
                    }
                }
            }
        }
        activation.withUnsafeBufferPointer { activation in
            input.withUnsafeBufferPointer { input in
                logits.withUnsafeMutableBufferPointer { logits in
                    net.parameters.withUnsafeBufferPointer { p in
                        let w2 = p.baseAddress! + net.w2Range.lowerBound, b2 = p.baseAddress! + net.b2Range.lowerBound
                        parallelTasks(batch * bands) { task in
                            let image = task / bands, rows = self.rows(band: task % bands)
                            let out = logits.baseAddress! + image * c * plane
                            Convolution3x3.forward(
                                input: activation.baseAddress! + image * h * plane, inChannels: h, weights: w2, bias: b2,
                                output: out, outChannels: c, height: height, width: width, rows: rows)
                            for channel in 0..<c {  // the residual connection
                                let offset = channel * plane + rows.lowerBound * width
                                axpy(1, input.baseAddress! + image * c * plane + offset, out + offset, rows.count * width)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The gradient of the loss with respect to every parameter, from `logitGradient`
    /// (after ``forward(_:)`` on the same input).
    func backward(_ net: ResidualConvNet) -> [Float] {
        let plane = height * width, (c, h) = (channels, hidden)
        let (height, width, bands, tasks) = (self.height, self.width, self.bands, batch * self.bands)
        let parameterCount = net.parameters.count
        // One private gradient per task, summed at the end (tasks write disjoint memory).
        var partial = [Float](repeating: 0, count: tasks * parameterCount)
        let transposed2 = Convolution3x3.transposedWeights(Array(net.parameters[net.w2Range]), inChannels: h, outChannels: c)

        // conv₂: its weight gradient, and ∂loss/∂activation through the ReLU.
        activation.withUnsafeBufferPointer { activation in
            logitGradient.withUnsafeBufferPointer { gradient in
                activationGradient.withUnsafeMutableBufferPointer { activationGradient in
                    partial.withUnsafeMutableBufferPointer { partial in
                        transposed2.withUnsafeBufferPointer { transposed2 in
                            parallelTasks(tasks) { task in
                                let image = task / bands, rows = self.rows(band: task % bands)
                                let mine = partial.baseAddress! + task * parameterCount
                                let gradientImage = gradient.baseAddress! + image * c * plane
                                let activationImage = activation.baseAddress! + image * h * plane
                                Convolution3x3.accumulateWeightGradient(
                                    input: activationImage, inChannels: h, outputGradient: gradientImage, outChannels: c,
                                    height: height, width: width, rows: rows,
                                    weightGradient: mine + net.w2Range.lowerBound, biasGradient: mine + net.b2Range.lowerBound)
                                let out = activationGradient.baseAddress! + image * h * plane
                                Convolution3x3.forward(
                                    input: gradientImage, inChannels: c, weights: transposed2.baseAddress!, bias: nil,
                                    output: out, outChannels: h, height: height, width: width, rows: rows)
                                for channel in 0..<h {
                                    let offset = channel * plane + rows.lowerBound * width
                                    for i in offset ..< offset + rows.count * width where activationImage[i] <= 0 { out[i] = 0 }
                                }
                            }
                        }
                    }
                }
            }
        }
        // conv₁: its weight gradient (the input needs none).
        input.withUnsafeBufferPointer { input in
            activationGradient.withUnsafeBufferPointer { activationGradient in
                partial.withUnsafeMutableBufferPointer { partial in
                    parallelTasks(tasks) { task in
                        let image = task / bands, rows = self.rows(band: task % bands)
                        let mine = partial.baseAddress! + task * parameterCount
                        Convolution3x3.accumulateWeightGradient(
                            input: input.baseAddress! + image * c * plane, inChannels: c,
                            outputGradient: activationGradient.baseAddress! + image * h * plane, outChannels: h,
                            height: height, width: width, rows: rows,
                            weightGradient: mine + net.w1Range.lowerBound, biasGradient: mine + net.b1Range.lowerBound)
                    }
                }
            }
        }
        var total = [Float](repeating: 0, count: parameterCount)
        for task in 0..<tasks {
            for i in 0..<parameterCount { total[i] += partial[task * parameterCount + i] }
        }
        return total
    }
}
