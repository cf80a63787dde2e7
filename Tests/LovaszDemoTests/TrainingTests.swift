import Foundation
import Lovasz
@testable import LovaszDemo
import Testing

/// A direct 3x3 "same" convolution in Double: `[inC, H, W]` → `[outC, H, W]`.
private func naiveConvolution(_ input: [Double], inC: Int, weights: [Double], bias: [Double], outC: Int, h: Int, w: Int) -> [Double] {
    var output = [Double](repeating: 0, count: outC * h * w)
    for o in 0..<outC {
        for y in 0..<h {
            for x in 0..<w {
                var total = bias[o]
                for i in 0..<inC {
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let sy = y + ky - 1, sx = x + kx - 1
                            if sy >= 0 && sy < h && sx >= 0 && sx < w {
                                total += weights[((o * inC + i) * 3 + ky) * 3 + kx] * input[(i * h + sy) * w + sx]
                            }
                        }
                    }
                }
                output[(o * h + y) * w + x] = total
            }
        }
    }
    return output
}

/// The network's logits for one image, computed naively in Double from Float parameters.
private func naiveLogits(_ parameters: [Double], input: [Double], channels c: Int, hidden k: Int, h: Int, w: Int) -> [Double] {
    let w1End = k * c * 9, b1End = w1End + k, w2End = b1End + c * k * 9
    let hiddenLayer = naiveConvolution(input, inC: c, weights: Array(parameters[0..<w1End]), bias: Array(parameters[w1End..<b1End]), outC: k, h: h, w: w)
        .map { max(0, $0) }
    let out = naiveConvolution(hiddenLayer, inC: k, weights: Array(parameters[b1End..<w2End]), bias: Array(parameters[w2End...]), outC: c, h: h, w: w)
    return zip(out, input).map { $0 + $1 }
}

private struct Uniform {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
}

@Suite("Training demo")
struct TrainingTests {
    @Test("the SIMD convolution equals a direct one", arguments: [(2, 3, 5, 11), (3, 8, 4, 3), (1, 1, 1, 1), (8, 3, 6, 17)])
    func convolution(inC: Int, outC: Int, h: Int, w: Int) {
        var random = Uniform(state: UInt64(inC * 1000 + outC * 100 + h * 10 + w))
        let input = (0..<(inC * h * w)).map { _ in Float(random.next()) }
        let weights = (0..<(outC * inC * 9)).map { _ in Float(random.next()) }
        let bias = (0..<outC).map { _ in Float(random.next()) }
        var output = [Float](repeating: .nan, count: outC * h * w)
        input.withUnsafeBufferPointer { input in
            weights.withUnsafeBufferPointer { weights in
                bias.withUnsafeBufferPointer { bias in
                    output.withUnsafeMutableBufferPointer { output in
                        // Two bands, as the workspace splits images between threads.
                        for rows in [0 ..< h / 2, h / 2 ..< h] {
                            Convolution3x3.forward(
                                input: input.baseAddress!, inChannels: inC, weights: weights.baseAddress!, bias: bias.baseAddress!,
                                output: output.baseAddress!, outChannels: outC, height: h, width: w, rows: rows)
                        }
                    }
                }
            }
        }
        let expected = naiveConvolution(input.map(Double.init), inC: inC, weights: weights.map(Double.init), bias: bias.map(Double.init), outC: outC, h: h, w: w)
        for (a, b) in zip(output, expected) { #expect(abs(Double(a) - b) < 1e-5) }
    }

    @Test("forward equals the naive network, backward equals finite differences", arguments: [(2, 5, 9), (3, 7, 12)])
    func networkGradient(hidden: Int, h: Int, w: Int) {
        let c = 3, batch = 2
        var net = ResidualConvNet(channels: c, hidden: hidden, seed: 3)
        var random = Uniform(state: 99)
        for i in net.parameters.indices { net.parameters[i] = Float(random.next() * 0.5) }
        let workspace = ConvNetWorkspace(batch: batch, channels: c, hidden: hidden, height: h, width: w)
        for i in workspace.input.indices { workspace.input[i] = Float(random.next()) }
        let probe = (0..<workspace.logits.count).map { _ in random.next() }  // loss = Σ probe · logits
        workspace.forward(net)
        let plane = c * h * w
        let parameters = net.parameters.map(Double.init)
        func naiveLoss(_ parameters: [Double]) -> Double {
            var total = 0.0
            for image in 0..<batch {
                let input = workspace.input[image * plane ..< (image + 1) * plane].map(Double.init)
                let logits = naiveLogits(parameters, input: input, channels: c, hidden: hidden, h: h, w: w)
                for (i, value) in logits.enumerated() { total += probe[image * plane + i] * value }
            }
            return total
        }
        for image in 0..<batch {
            let input = workspace.input[image * plane ..< (image + 1) * plane].map(Double.init)
            let logits = naiveLogits(parameters, input: input, channels: c, hidden: hidden, h: h, w: w)
            for i in 0..<plane { #expect(abs(Double(workspace.logits[image * plane + i]) - logits[i]) < 1e-4) }
        }
        workspace.logitGradient = probe.map(Float.init)
        let gradient = workspace.backward(net)
        let step = 1e-5
        for i in parameters.indices {
            var up = parameters, down = parameters
            up[i] += step
            down[i] -= step
            let numerical = (naiveLoss(up) - naiveLoss(down)) / (2 * step)
            #expect(abs(Double(gradient[i]) - numerical) < 2e-3 * max(1, abs(numerical)), "parameter \(i)")
        }
    }

    @Test("cross-entropy and its gradient against a naive Double computation")
    func crossEntropy() {
        let batch = 2, classes = 3, spatial = 4
        var random = Uniform(state: 5)
        let logits = (0..<(batch * classes * spatial)).map { _ in Float(random.next() * 3) }
        let labels: [UInt8] = [0, 2, 255, 1, 1, 255, 0, 2]
        func naive(_ logits: [Double]) -> Double {
            var total = 0.0, count = 0
            for b in 0..<batch {
                for s in 0..<spatial where labels[b * spatial + s] != 255 {
                    let scores = (0..<classes).map { logits[(b * classes + $0) * spatial + s] }
                    total += log(scores.map { exp($0) }.reduce(0, +)) - scores[Int(labels[b * spatial + s])]
                    count += 1
                }
            }
            return total / Double(count)
        }
        var gradient = [Float](repeating: .nan, count: logits.count)
        let loss = logits.withUnsafeBufferPointer { logits in
            labels.withUnsafeBufferPointer { labels in
                gradient.withUnsafeMutableBufferPointer { gradient in
                    CrossEntropy.lossAndGradient(logits: logits, labels: labels, batch: batch, classes: classes, spatial: spatial, ignore: 255, gradient: gradient)
                }
            }
        }
        let doubles = logits.map(Double.init)
        #expect(abs(loss - naive(doubles)) < 1e-5)
        for i in doubles.indices {
            var up = doubles, down = doubles
            up[i] += 1e-6
            down[i] -= 1e-6
            #expect(abs(Double(gradient[i]) - (naive(up) - naive(down)) / 2e-6) < 1e-5)
        }
    }

    @Test("Adam's first step moves every parameter by the learning rate against its gradient")
    func adam() {
        var adam = Adam(parameterCount: 3, learningRate: 0.1)
        var parameters: [Float] = [1, 2, 3]
        adam.step(&parameters, gradient: [0.5, -4, 1e-3])
        #expect(abs(parameters[0] - 0.9) < 1e-5 && abs(parameters[1] - 2.1) < 1e-5 && abs(parameters[2] - 2.9) < 1e-4)
    }

    @Test("IoU scores on a hand-made example")
    func scores() {
        // Two images of 4 pixels, classes 0..2, 9 = ignored.
        let labels: [UInt8] = [0, 0, 1, 9, /**/ 0, 2, 2, 2]
        let predictions: [UInt8] = [0, 1, 1, 2, /**/ 0, 2, 2, 0]
        let scores = SegmentationScores(predictions: predictions, labels: labels, images: 2, classes: 3, ignore: 9, batches: [[0], [1]])
        // Data set: class 0: I = 2 (px 0, 4), U = 4 (0, 1, 4, 7); class 1: I = 1, U = 2; class 2: I = 2, U = 3.
        #expect(scores.classIoU == [0.5, 0.5, 2.0 / 3])
        #expect(abs(scores.datasetMIoU - (0.5 + 0.5 + 2.0 / 3) / 3) < 1e-12)
        // Image 0: class 0 1/2, class 1 1/2 (class 2 nowhere: skipped); image 1: class 0 1/2, class 2 2/3.
        #expect(abs(scores.imageMIoU - (0.5 + (0.5 + 2.0 / 3) / 2) / 2) < 1e-12)
        // The same here: each batch is one image and its present classes are those above.
        #expect(abs(scores.batchMIoU - scores.imageMIoU) < 1e-12)
        let pooled = SegmentationScores(predictions: predictions, labels: labels, images: 2, classes: 3, ignore: 9, batches: [[0, 1]])
        #expect(abs(pooled.batchMIoU - pooled.datasetMIoU) < 1e-12)
    }

    @Test("scenes: labels are classes or void, void only on boundaries, features are noisy one-hot codes")
    func scenes() {
        let scenes = TriangleScenes(count: 4, size: 32, noise: 0.5, seed: 3)
        #expect(scenes.labels.allSatisfy { $0 < 3 || $0 == 255 })
        #expect(scenes.presence.allSatisfy { $0.contains(0) })
        let plane = 32 * 32
        var residual = [Double]()
        for image in 0..<4 {
            for pixel in 0..<plane where scenes.labels[image * plane + pixel] != 255 {
                let label = Int(scenes.labels[image * plane + pixel])
                for c in 0..<3 {
                    residual.append(Double(scenes.features[(image * 3 + c) * plane + pixel]) - (c == label ? 1 : 0))
                }
                // A labelled pixel's 4-neighbours carry its label or void.
                let y = pixel / 32, x = pixel % 32
                for (ny, nx) in [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)] where (0..<32).contains(ny) && (0..<32).contains(nx) {
                    let neighbour = scenes.labels[image * plane + ny * 32 + nx]
                    #expect(neighbour == UInt8(label) || neighbour == 255)
                }
            }
        }
        let mean = residual.reduce(0, +) / Double(residual.count)
        let deviation = (residual.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(residual.count)).squareRoot()
        #expect(abs(mean) < 0.05 && abs(deviation - 0.5) < 0.05)
    }

    @Test("a tiny training run lowers the loss and raises the mIoU, reproducibly", arguments: TrainingLoss.allCases)
    func tinyTraining(loss: TrainingLoss) throws {
        let scenes = TriangleScenes(count: 3, size: 24, noise: 1.0, seed: 4)
        let settings = TrainingSettings(steps: 40, batchSize: 2, hidden: 4, learningRate: 0.03, evaluateEvery: 10, seed: 2)
        let trainer = try SegmentationTrainer(scenes: scenes, settings: settings, engine: LovaszEngine(backend: .cpu))
        var steps = [Int]()
        let run = try trainer.train(loss) { steps.append($0.step) }
        #expect(steps == Array(1...40))
        #expect(run.lossCurve.count == 40)
        #expect(run.miouCurve.map(\.step) == [0, 10, 20, 30, 40])
        let first = run.lossCurve.prefix(5).map(\.value).reduce(0, +), last = run.lossCurve.suffix(5).map(\.value).reduce(0, +)
        #expect(last < 0.8 * first)
        #expect(run.after.datasetMIoU > run.before.datasetMIoU + 0.1)
        #expect(run.predictionsAfter.count == 3 * 24 * 24)
        let again = try trainer.train(loss)
        #expect(again.lossCurve == run.lossCurve && again.predictionsAfter == run.predictionsAfter)
    }

    @Test("bad settings are a typed error")
    func badSettings() throws {
        let scenes = TriangleScenes(count: 1, size: 8)
        #expect(throws: LovaszError.self) {
            try SegmentationTrainer(scenes: scenes, settings: TrainingSettings(steps: 0), engine: LovaszEngine(backend: .cpu))
        }
        #expect(throws: LovaszError.self) {
            try SegmentationTrainer(scenes: scenes, settings: TrainingSettings(learningRate: -1), engine: LovaszEngine(backend: .cpu))
        }
    }
}
