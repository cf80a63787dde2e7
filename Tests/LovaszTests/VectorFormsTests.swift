import CLovaszCPU
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The softmax and its back-propagation on the CPU, in their C vector forms (AVX2 where the
/// processor has it, the softmax also with AVX-512F) and in the Swift loops, bit for bit against a per-pixel loop written from
/// the definition with ``PortableMath`` (the values the OpenCL kernels compute).
@Suite struct VectorFormsTests {
    /// Logits with wide and extreme spreads: differences beyond the exp's -87 cut-off, results
    /// below the smallest normal, ties, and one dominant class.
    static func logits(count: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            switch random.next() % 6 {
            case 0: return Float.random(in: -120...120, using: &random)
            case 1: return Float(random.next() % 3)
            case 2: return Float.random(in: -1e30...1e30, using: &random)
            default: return Float.random(in: -4...4, using: &random)
            }
        }
    }

    /// `[B, C, S]` softmax, pixel by pixel from the definition.
    static func naiveSoftmax(_ x: [Float], batch: Int, channels C: Int, spatial S: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<batch {
            for s in 0..<S {
                var maximum = x[b * C * S + s]
                for c in 0..<C { maximum = max(maximum, x[(b * C + c) * S + s]) }
                var sum: Float = 0
                var e = [Float](repeating: 0, count: C)
                for c in 0..<C {
                    e[c] = PortableMath.expNonPositive(x[(b * C + c) * S + s] - maximum)
                    sum += e[c]
                }
                for c in 0..<C { out[(b * C + c) * S + s] = PortableMath.flushSubnormal(e[c] / sum) }
            }
        }
        return out
    }

    static let shapes: [(batch: Int, channels: Int, spatial: Int)] = [
        (1, 1, 5), (2, 3, 7), (1, 21, 8), (3, 5, 1029), (1, 2, 2053), (2, 150, 40),
    ]

    @Test(arguments: [false, true])
    func softmaxIsBitIdenticalToTheDefinition(vectorForms: Bool) throws {
        for (index, (B, C, S)) in Self.shapes.enumerated() {
            let x = Self.logits(count: B * C * S, seed: UInt64(index + 1))
            let shape = try ProblemShape(scores: [B, C, S], loss: .softmax)
            var out = [Float](repeating: .nan, count: x.count)
            let sawNonFinite = x.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { out in
                    Probabilities.softmax(logits: x, into: out, shape: shape, workers: 2, vectorForms: vectorForms)
                }
            }
            #expect(!sawNonFinite)
            let expected = Self.naiveSoftmax(x, batch: B, channels: C, spatial: S)
            let differing = zip(out, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(B)x\(C)x\(S): \(differing) probabilities differ")
        }
    }

    @Test(arguments: [false, true], [Float.nan, .infinity, -.infinity])
    func softmaxReportsANonFiniteLogitAnywhere(vectorForms: Bool, bad: Float) throws {
        let (B, C, S) = (2, 3, 1030)
        let shape = try ProblemShape(scores: [B, C, S], loss: .softmax)
        // In a vector body, in the scalar tail, in the first class and in the last.
        for position in [0, 17, S - 1, (B * C - 1) * S + 3, B * C * S - 1] {
            var x = Self.logits(count: B * C * S, seed: 5)
            x[position] = bad
            var out = [Float](repeating: 0, count: x.count)
            let saw = x.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { out in
                    Probabilities.softmax(logits: x, into: out, shape: shape, workers: 1, vectorForms: vectorForms)
                }
            }
            #expect(saw, "position \(position)")
        }
    }

    /// The C softmax's forms called directly, one image at a time: the widest this processor runs
    /// (sixteen pixels at a time with AVX-512F, then eight, then one) and never more than eight.
    enum CSoftmaxForm: String, CaseIterable {
        case widest, eightAtMost

        func run(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, spatial: Int, channels: Int) -> Bool {
            switch self {
            case .widest: lovasz_cpu_softmax(input, output, spatial, channels, spatial) != 0
            case .eightAtMost: lovasz_cpu_softmax_avx2_only(input, output, spatial, channels, spatial) != 0
            }
        }
    }

    /// Sizes whose pixels leave every form a tail: 27 = 16 + 8 + 3, 600 = 512 + 5 · 16 + 8, and
    /// more than one run of 512.
    static let formShapes: [(batch: Int, channels: Int, spatial: Int)] = shapes + [(1, 3, 27), (2, 4, 600), (1, 21, 16), (1, 2, 1031)]

    @Test(arguments: CSoftmaxForm.allCases)
    func cSoftmaxFormsAreBitIdenticalToTheDefinition(form: CSoftmaxForm) throws {
        for (index, (B, C, S)) in Self.formShapes.enumerated() {
            let x = Self.logits(count: B * C * S, seed: UInt64(index + 101))
            var out = [Float](repeating: .nan, count: x.count)
            var sawNonFinite = false
            x.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { out in
                    for b in 0..<B {
                        sawNonFinite = form.run(x.baseAddress! + b * C * S, out.baseAddress! + b * C * S, spatial: S, channels: C) || sawNonFinite
                    }
                }
            }
            #expect(!sawNonFinite)
            let expected = Self.naiveSoftmax(x, batch: B, channels: C, spatial: S)
            let differing = zip(out, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(form) \(B)x\(C)x\(S): \(differing) probabilities differ")
        }
    }

    @Test(arguments: CSoftmaxForm.allCases, [Float.nan, .infinity, -.infinity])
    func cSoftmaxFormsReportANonFiniteLogitAnywhere(form: CSoftmaxForm, bad: Float) throws {
        let (C, S) = (3, 27)
        // In the sixteen-pixel body, the eight-pixel tail and the last pixels, first and last class.
        for position in [0, 15, 16, 23, 24, 26, (C - 1) * S + 5, (C - 1) * S + 20, C * S - 1] {
            var x = Self.logits(count: C * S, seed: 7)
            x[position] = bad
            var out = [Float](repeating: 0, count: x.count)
            let saw = x.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { out in form.run(x.baseAddress!, out.baseAddress!, spatial: S, channels: C) }
            }
            #expect(saw, "\(form) position \(position)")
        }
    }

    @Test(arguments: [false, true])
    func softmaxBackwardIsBitIdenticalToTheDefinition(vectorForms: Bool) throws {
        for (index, (B, C, S)) in Self.shapes.enumerated() {
            let shape = try ProblemShape(scores: [B, C, S], loss: .softmax)
            let probabilities = Self.naiveSoftmax(Self.logits(count: B * C * S, seed: UInt64(index + 11)), batch: B, channels: C, spatial: S)
            var random = SplitMix64(seed: UInt64(index + 21))
            // Class-major [C][B·S], as the walk writes it.
            let upstream = (0..<(B * C * S)).map { _ in Float.random(in: -1...1, using: &random) }
            var expected = probabilities
            for b in 0..<B {
                for s in 0..<S {
                    var dot: Float = 0
                    for c in 0..<C { dot += probabilities[(b * C + c) * S + s] * upstream[c * B * S + b * S + s] }
                    for c in 0..<C {
                        let i = (b * C + c) * S + s
                        expected[i] = probabilities[i] * (upstream[c * B * S + b * S + s] - dot)
                    }
                }
            }
            var gradient = probabilities
            upstream.withUnsafeBufferPointer { upstream in
                gradient.withUnsafeMutableBufferPointer { gradient in
                    Backpropagation.run(
                        loss: .softmax, logits: true, shape: shape, upstream: upstream, gradient: gradient,
                        workers: 2, vectorForms: vectorForms)
                }
            }
            let differing = zip(gradient, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(B)x\(C)x\(S): \(differing) gradient entries differ")
        }
    }

    /// The back-propagation's C forms called directly on one image (planes of the gradient and
    /// of the upstream buffer at different strides, as the CPU path has them): the widest this
    /// processor runs and never more than eight pixels at a time, against the definition.
    @Test(arguments: CSoftmaxForm.allCases)
    func cSoftmaxBackwardFormsAreBitIdenticalToTheDefinition(form: CSoftmaxForm) {
        for (index, (_, C, S)) in Self.formShapes.enumerated() {
            let upstreamStride = S + 5
            let probabilities = Self.naiveSoftmax(Self.logits(count: C * S, seed: UInt64(index + 301)), batch: 1, channels: C, spatial: S)
            var random = SplitMix64(seed: UInt64(index + 401))
            let upstream = (0..<(C * upstreamStride)).map { _ in Float.random(in: -1...1, using: &random) }
            var expected = probabilities
            for s in 0..<S {
                var dot: Float = 0
                for c in 0..<C { dot += probabilities[c * S + s] * upstream[c * upstreamStride + s] }
                for c in 0..<C { expected[c * S + s] = probabilities[c * S + s] * (upstream[c * upstreamStride + s] - dot) }
            }
            var gradient = probabilities
            upstream.withUnsafeBufferPointer { upstream in
                gradient.withUnsafeMutableBufferPointer { gradient in
                    switch form {
                    case .widest: lovasz_cpu_softmax_backward(gradient.baseAddress!, upstream.baseAddress!, S, C, S, upstreamStride)
                    case .eightAtMost:
                        lovasz_cpu_softmax_backward_avx2_only(gradient.baseAddress!, upstream.baseAddress!, S, C, S, upstreamStride)
                    }
                }
            }
            let differing = zip(gradient, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(form) \(C)x\(S): \(differing) gradient entries differ")
        }
    }
}
