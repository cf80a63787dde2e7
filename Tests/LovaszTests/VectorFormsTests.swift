import LovaszTestSupport
import Testing
@testable import Lovasz

/// The softmax and its back-propagation on the CPU, in their C vector forms (AVX2 where the
/// processor has it) and in the Swift loops, bit for bit against a per-pixel loop written from
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
}
