import Lovasz
import LovaszTestSupport
import Testing

/// The Lovász extension equals the discrete Jaccard loss on indicator vectors (paper, Sec. 3):
/// for `m ∈ {0,1}^p`, `Δ̄(m) = Δ_J({i : m_i = 1})`. Checked exhaustively for small `p`, for
/// every foreground set, on the naive reference, the library's `lovaszExtension`, and the
/// engine through the hinge and the sigmoid (whose errors can be set to 0 or 1 exactly).
@Suite struct JaccardExtensionTests {
    /// Every pair (error indicator, foreground) of length `p`.
    static func cases(_ p: Int) -> [(errors: [Bool], foreground: [Bool])] {
        let vectors = (0..<(1 << p)).map { bits in (0..<p).map { bits >> $0 & 1 == 1 } }
        return vectors.flatMap { m in vectors.map { f in (m, f) } }
    }

    @Test(arguments: 1...6) func naiveAndLibraryExtensionEqualJaccard(p: Int) {
        for (m, foreground) in Self.cases(p) {
            let expected = NaiveJaccard.loss(mispredicted: m, foreground: foreground)
            let errors = m.map { $0 ? 1.0 : 0.0 }
            let naive = NaiveJaccard.lovaszExtension(errors: errors, foreground: foreground)
            let library = lovaszExtension(errors: errors, foreground: foreground)
            #expect(abs(naive.value - expected) < 1e-12, "m \(m) f \(foreground)")
            #expect(abs(library.loss - expected) < 1e-12, "m \(m) f \(foreground)")
            for (a, b) in zip(library.gradient, naive.gradient) { #expect(abs(a - b) < 1e-12) }
        }
    }

    @Test func jaccardLossByHand() {
        // F = {0, 1}, M = {1, 2}: |M| = 2, |F ∪ M| = 3.
        #expect(NaiveJaccard.loss(mispredicted: [false, true, true], foreground: [true, true, false]) == 2.0 / 3)
        #expect(NaiveJaccard.loss(mispredicted: [false, false], foreground: [true, false]) == 0)
        #expect(NaiveJaccard.loss(mispredicted: [true, false], foreground: [false, false]) == 1)
    }

    @Test(arguments: 1...5) func engineHingeEqualsJaccard(p: Int) throws {
        let engine = try LovaszEngine(backend: .cpu, threads: 1)
        for (m, foreground) in Self.cases(p) {
            // m = 1 - F for the foreground, 1 + F for the background.
            let logits: [Float] = zip(m, foreground).map { isError, isForeground in
                isError ? 0 : (isForeground ? 1 : -1)
            }
            let labels = foreground.map { $0 ? UInt8(1) : 0 }
            let result = try engine.loss(scores: logits, shape: [1, p], labels: labels, options: .hinge())
            let expected = NaiveJaccard.loss(mispredicted: m, foreground: foreground)
            #expect(abs(result.loss - expected) < 1e-12, "m \(m) f \(foreground)")
        }
    }

    @Test(arguments: 1...5) func engineSigmoidEqualsJaccard(p: Int) throws {
        let engine = try LovaszEngine(backend: .cpu, threads: 1)
        for (m, foreground) in Self.cases(p) {
            // m = 1 - p for the foreground, p for the background.
            let probabilities: [Float] = zip(m, foreground).map { isError, isForeground in
                isError != isForeground ? 1 : 0
            }
            let labels = foreground.map { $0 ? Int16(1) : 0 }
            let result = try engine.loss(
                scores: probabilities, shape: [1, p], labels: labels,
                options: .sigmoid(scoresAre: .probabilities))
            let expected = NaiveJaccard.loss(mispredicted: m, foreground: foreground)
            #expect(abs(result.loss - expected) < 1e-12, "m \(m) f \(foreground)")
        }
    }
}
