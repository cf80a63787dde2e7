import Foundation
import Lovasz
import LovaszTestSupport
import Testing

/// The Lovász losses computed naively from their definition (Berman et al., Eq. 8-9), in
/// Double, for checking `lovasz loss`: the Jaccard loss `|M| / |F ∪ M|` of every prefix set `M`
/// of pixels sorted by decreasing error is recomputed from scratch, and the gradient is the
/// difference of consecutive prefixes.
enum NaiveLovasz {
    struct Problem {
        var loss: LovaszLoss
        var scores: [Double]
        var shape: [Int]
        /// One label per pixel, C order.
        var labels: [Int]
        var probabilities = false
        var classes: ClassSelection = .present
        var weights: [Double]? = nil
        var perImage: Bool? = nil
        var ignoreIndex: Int? = nil
    }

    struct Answer {
        var loss: Double
        var gradient: [Double]
        var classesCounted: Int
    }

    /// `∂(Lovász extension)/∂m` for errors `m` and foreground `fg`, ties by increasing index.
    static func extensionGradient(errors m: [Double], foreground fg: [Bool]) -> [Double] {
        let order = m.indices.sorted { m[$0] != m[$1] ? m[$0] > m[$1] : $0 < $1 }
        var inPrefix = [Bool](repeating: false, count: m.count)
        var gradient = [Double](repeating: 0, count: m.count)
        var previous = 0.0
        for (k, pixel) in order.enumerated() {
            inPrefix[pixel] = true
            let union = m.indices.filter { fg[$0] || inPrefix[$0] }.count
            let jaccardLoss = Double(k + 1) / Double(union)
            gradient[pixel] = jaccardLoss - previous
            previous = jaccardLoss
        }
        return gradient
    }

    static func solve(_ p: Problem) -> Answer {
        let batch = p.shape[0]
        let perImage = p.perImage ?? (p.loss != .softmax)
        let groups: [[Int]] = perImage ? (0..<batch).map { [$0] } : [Array(0..<batch)]
        let scale = perImage ? 1 / Double(batch) : 1
        return p.loss == .softmax
            ? softmax(p, groups: groups, scale: scale) : binary(p, groups: groups, scale: scale)
    }

    private static func softmax(_ p: Problem, groups: [[Int]], scale: Double) -> Answer {
        let C = p.shape[1], S = p.shape.dropFirst(2).reduce(1, *)
        func at(_ b: Int, _ c: Int, _ s: Int) -> Int { (b * C + c) * S + s }
        var f = p.scores
        if !p.probabilities {
            for b in 0..<p.shape[0] {
                for s in 0..<S {
                    let top = (0..<C).map { p.scores[at(b, $0, s)] }.max()!
                    let e = (0..<C).map { exp(p.scores[at(b, $0, s)] - top) }
                    let sum = e.reduce(0, +)
                    for c in 0..<C { f[at(b, c, s)] = e[c] / sum }
                }
            }
        }
        var upstream = [Double](repeating: 0, count: f.count)
        var loss = 0.0
        var counted = Set<Int>()
        for images in groups {
            let pixels = images.flatMap { b in (0..<S).map { (b, $0) } }
                .filter { p.labels[$0.0 * S + $0.1] != p.ignoreIndex }
            let present = Set(pixels.map { p.labels[$0.0 * S + $0.1] })
            let chosen: [Int]
            switch p.classes {
            case .present: chosen = (0..<C).filter(present.contains)
            case .all: chosen = Array(0..<C)
            case .explicit(let list): chosen = list
            }
            counted.formUnion(chosen)
            let total = chosen.map { p.weights?[$0] ?? 1 }.reduce(0, +)
            guard !pixels.isEmpty, total > 0 else { continue }
            for c in chosen {
                let weight = (p.weights?[c] ?? 1) / total * scale
                let fg = pixels.map { p.labels[$0.0 * S + $0.1] == c }
                let m = zip(pixels, fg).map { pixel, isFg in
                    let value = f[at(pixel.0, c, pixel.1)]
                    return isFg ? 1 - value : value
                }
                let g = extensionGradient(errors: m, foreground: fg)
                loss += weight * zip(m, g).map(*).reduce(0, +)
                for (i, pixel) in pixels.enumerated() {
                    upstream[at(pixel.0, c, pixel.1)] += weight * g[i] * (fg[i] ? -1 : 1)
                }
            }
        }
        var gradient = upstream
        if !p.probabilities {
            for b in 0..<p.shape[0] {
                for s in 0..<S {
                    let dot = (0..<C).map { f[at(b, $0, s)] * upstream[at(b, $0, s)] }.reduce(0, +)
                    for k in 0..<C { gradient[at(b, k, s)] = f[at(b, k, s)] * (upstream[at(b, k, s)] - dot) }
                }
            }
        }
        return Answer(loss: loss, gradient: gradient, classesCounted: counted.count)
    }

    private static func binary(_ p: Problem, groups: [[Int]], scale: Double) -> Answer {
        let S = p.scores.count / p.shape[0]
        var gradient = [Double](repeating: 0, count: p.scores.count)
        var loss = 0.0
        for images in groups {
            let pixels = images.flatMap { b in (0..<S).map { b * S + $0 } }.filter { p.labels[$0] != p.ignoreIndex }
            guard !pixels.isEmpty else { continue }
            let fg = pixels.map { p.labels[$0] == 1 }
            if p.loss == .hinge {
                let m = zip(pixels, fg).map { 1 - p.scores[$0] * ($1 ? 1 : -1) }
                let g = extensionGradient(errors: m, foreground: fg)
                loss += scale * zip(m, g).map { max($0, 0) * $1 }.reduce(0, +)
                for (i, pixel) in pixels.enumerated() where m[i] > 0 {
                    gradient[pixel] = scale * g[i] * (fg[i] ? -1 : 1)
                }
            } else {
                let prob = pixels.map { p.probabilities ? p.scores[$0] : 1 / (1 + exp(-p.scores[$0])) }
                let m = zip(prob, fg).map { abs(($1 ? 1 : 0) - $0) }
                let g = extensionGradient(errors: m, foreground: fg)
                loss += scale * zip(m, g).map(*).reduce(0, +)
                for (i, pixel) in pixels.enumerated() {
                    let dp = scale * g[i] * (fg[i] ? -1 : 1)
                    gradient[pixel] = p.probabilities ? dp : dp * prob[i] * (1 - prob[i])
                }
            }
        }
        return Answer(loss: loss, gradient: gradient, classesCounted: 1)
    }
}

/// A temporary directory of `.npy` inputs, removed when the value goes away.
final class LossFixtureDirectory {
    let url: URL

    init() throws { url = try NumPyFixtures.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` as `name` and returns its path.
    @discardableResult
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        try NumPyFixtures.write(bytes, named: name, in: url)
    }

    /// The path `name` would have in the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// The names of the files in the directory.
    func contents() throws -> [String] { try NumPyFixtures.contents(of: url) }
}

/// Runs `lovasz arguments…` on the built binary.
func runLovasz(_ arguments: [String]) throws -> CommandRunner.Outcome {
    try CommandRunner().run(arguments)
}

/// The JSON object `lovasz loss --json` printed, parsed with JSONSerialization.
func parseLossJSON(_ output: String) throws -> [String: Any] {
    let lines = output.split(separator: "\n")
    #expect(lines.count == 1, "exactly one line on stdout: \(output)")
    let object = try JSONSerialization.jsonObject(with: Data(output.utf8))
    return try #require(object as? [String: Any])
}

@Suite("The naive reference itself, on cases worked by hand")
struct LossReferenceTests {
    @Test("hinge on F=[2,-1,0.5,0.2], y=[1,0,1,0]")
    func hinge() {
        let answer = NaiveLovasz.solve(.init(loss: .hinge, scores: [2, -1, 0.5, 0.2], shape: [1, 4], labels: [1, 0, 1, 0]))
        #expect(abs(answer.loss - 1.7 / 3) < 1e-15)
        #expect(zip(answer.gradient, [0, 0, -1.0 / 3, 1.0 / 3]).allSatisfy { abs($0 - $1) < 1e-15 })
    }

    @Test("softmax on probabilities: class losses 0.4 and 11/30")
    func softmax() {
        let answer = NaiveLovasz.solve(.init(
            loss: .softmax, scores: [0.8, 0.4, 0.1, 0.2, 0.6, 0.9], shape: [1, 2, 3], labels: [0, 0, 1],
            probabilities: true))
        #expect(abs(answer.loss - (0.4 + 11.0 / 30) / 2) < 1e-15)
        let expected = [-0.25, -0.25, 0, 1.0 / 12, 0.25, -1.0 / 6]
        #expect(zip(answer.gradient, expected).allSatisfy { abs($0 - $1) < 1e-15 })
    }

    @Test("sigmoid on probabilities p=[0.9,0.3,0.6,0.2], y=[1,0,0,1]")
    func sigmoid() {
        let answer = NaiveLovasz.solve(.init(
            loss: .sigmoid, scores: [0.9, 0.3, 0.6, 0.2], shape: [1, 4], labels: [1, 0, 0, 1], probabilities: true))
        #expect(abs(answer.loss - 0.55) < 1e-15)
        let expected = [-0.25, 1.0 / 12, 1.0 / 6, -0.5]
        #expect(zip(answer.gradient, expected).allSatisfy { abs($0 - $1) < 1e-15 })
    }

    @Test("an absent class in an explicit list costs its largest error")
    func absentClass() {
        let answer = NaiveLovasz.solve(.init(
            loss: .softmax, scores: [0.7, 0.9, 0.3, 0.1], shape: [1, 2, 2], labels: [0, 0],
            probabilities: true, classes: .explicit([1])))
        #expect(abs(answer.loss - 0.3) < 1e-15)
        #expect(answer.gradient == [0, 0, 1, 0])
    }
}
