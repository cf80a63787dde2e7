import Lovasz
import Testing

/// The Jaccard loss of the mispredicted set `mistakes`, straight from its definition:
/// `1 − |Y \ A| / |Y ∪ A|` with `Y` the foreground (0 when `Y ∪ A` is empty).
private func naiveJaccardLoss(mistakes: [Bool], foreground: [Bool]) -> Double {
    var intersection = 0, union = 0
    for (wrong, isForeground) in zip(mistakes, foreground) {
        if isForeground && !wrong { intersection += 1 }
        if isForeground || wrong { union += 1 }
    }
    return union == 0 ? 0 : 1 - Double(intersection) / Double(union)
}

/// The Lovász hinge of margins `u` and a subgradient of it, from Eq. (8)-(9): the positive
/// parts sorted decreasingly, each weighted by the Jaccard loss gained when its pixel joins
/// the set of the larger ones (pixels with `u_i ≤ 0` get 0).
private func naiveHinge(_ u: [Double], foreground: [Bool]) -> (value: Double, subgradient: [Double]) {
    let order = u.indices.filter { u[$0] > 0 }.sorted { u[$0] > u[$1] }
    var mistakes = [Bool](repeating: false, count: u.count)
    var previous = 0.0, value = 0.0
    var subgradient = [Double](repeating: 0, count: u.count)
    for i in order {
        mistakes[i] = true
        let current = naiveJaccardLoss(mistakes: mistakes, foreground: foreground)
        subgradient[i] = current - previous
        value += u[i] * (current - previous)
        previous = current
    }
    return (value, subgradient)
}

private func objective(_ u: [Double], x: [Double], foreground: [Bool], lambda: Double) -> Double {
    naiveHinge(u, foreground: foreground).value
        + lambda / 2 * zip(u, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
}

/// Minimises the `λ`-strongly convex objective by the subgradient method with steps
/// `2/(λ(t+2))` and the weighted average of the iterates (Lacoste-Julien et al., 2012).
private func subgradientMinimiser(x: [Double], foreground: [Bool], lambda: Double, iterations: Int) -> [Double] {
    var u = x
    var average = [Double](repeating: 0, count: x.count)
    var weightSum = 0.0
    for t in 0..<iterations {
        let g = naiveHinge(u, foreground: foreground).subgradient
        let step = 2 / (lambda * Double(t + 2))
        for i in u.indices { u[i] -= step * (g[i] + lambda * (u[i] - x[i])) }
        let weight = Double(t + 1)
        weightSum += weight
        for i in u.indices { average[i] += weight / weightSum * (u[i] - average[i]) }
    }
    return average
}

/// Checks the optimality certificate of `u` exactly: `s = λ(x − u)` must lie in the positive
/// submodular polyhedron of the Jaccard loss (`s ≥ 0`, `s(A) ≤ Δ(A)` for every subset `A`)
/// and attain the hinge, `⟨s, u⟩ = f(u)`; then `s ∈ ∂f(u)` and `u` is the proximal point.
private func certificateViolation(_ u: [Double], x: [Double], foreground: [Bool], lambda: Double) -> Double {
    let p = u.count
    let s = zip(x, u).map { lambda * ($0 - $1) }
    var violation = max(0, -(s.min() ?? 0))
    for mask in 0..<(1 << p) {
        let members = (0..<p).map { mask & (1 << $0) != 0 }
        let mass = s.indices.reduce(0) { members[$1] ? $0 + s[$1] : $0 }
        violation = max(violation, mass - naiveJaccardLoss(mistakes: members, foreground: foreground))
    }
    let attained = zip(s, u).reduce(0) { $0 + $1.0 * $1.1 }
    return max(violation, abs(attained - naiveHinge(u, foreground: foreground).value))
}

/// A reproducible problem: margins on a coarse grid (so that ties occur) or continuous.
private struct ProximalCase: CustomTestStringConvertible, Sendable {
    let margins: [Double]
    let foreground: [Bool]
    let lambda: Double
    var testDescription: String { "x=\(margins) y=\(foreground) λ=\(lambda)" }

    static func random(seed: UInt64) -> ProximalCase {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let p = 1 + Int(next() * 6)
        let onGrid = seed % 3 == 0
        let margins = (0..<p).map { _ in
            let value = -1.5 + 4 * next()
            return onGrid ? (value * 2).rounded() / 2 : value
        }
        let foreground = (0..<p).map { _ in next() < 0.4 }
        let lambda = [0.25, 1, 4][Int(seed % 3)]
        return ProximalCase(margins: margins, foreground: foreground, lambda: lambda)
    }
}

private let randomCases = (0..<30).map { ProximalCase.random(seed: UInt64($0)) }
    + [ProximalCase(margins: [2, 1.5, 0.5, -1], foreground: [true, true, true, true], lambda: 1),
       ProximalCase(margins: [2, 1.5, 0.5, 0.2], foreground: [false, false, false, false], lambda: 1),
       ProximalCase(margins: [1, 1, 1, 1, 1], foreground: [true, false, true, false, false], lambda: 2)]

@Suite("Lovász hinge proximal operator")
struct ProximalOperatorTests {
    @Test("the proximal point satisfies the exact optimality certificate", arguments: randomCases)
    fileprivate func certificate(_ problem: ProximalCase) throws {
        let u = try lovaszHingeProximal(margins: problem.margins, foreground: problem.foreground, lambda: problem.lambda)
        #expect(u.count == problem.margins.count)
        #expect(certificateViolation(u, x: problem.margins, foreground: problem.foreground, lambda: problem.lambda) < 1e-10)
    }

    @Test("no worse than a direct numerical minimisation, and close to it", arguments: randomCases)
    fileprivate func matchesNumericalMinimiser(_ problem: ProximalCase) throws {
        let (x, y, lambda) = (problem.margins, problem.foreground, problem.lambda)
        let u = try lovaszHingeProximal(margins: x, foreground: y, lambda: lambda)
        let numerical = subgradientMinimiser(x: x, foreground: y, lambda: lambda, iterations: 20_000)
        let atProx = objective(u, x: x, foreground: y, lambda: lambda)
        let atNumerical = objective(numerical, x: x, foreground: y, lambda: lambda)
        #expect(atProx <= atNumerical + 1e-12)
        // Strong convexity: λ/2 ‖u − v‖² ≤ φ(v) − φ(u*), so the minimisers are close.
        let distance = zip(u, numerical).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        #expect(distance <= (2 * max(0, atNumerical - atProx) / lambda).squareRoot() + 1e-6)
        #expect(distance < 0.05)
    }

    @Test("no small move lowers the objective", arguments: randomCases.prefix(12))
    fileprivate func locallyOptimal(_ problem: ProximalCase) throws {
        let (x, y, lambda) = (problem.margins, problem.foreground, problem.lambda)
        let u = try lovaszHingeProximal(margins: x, foreground: y, lambda: lambda)
        let atProx = objective(u, x: x, foreground: y, lambda: lambda)
        for epsilon in [1e-3, 1e-6] {
            for i in u.indices {
                for j in u.indices {
                    for (si, sj) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
                        var v = u
                        v[i] += si * epsilon
                        v[j] += sj * epsilon
                        #expect(objective(v, x: x, foreground: y, lambda: lambda) >= atProx - 1e-12)
                    }
                }
            }
        }
    }

    /// One pixel: the hinge is `relu(u)` (a lone mistake has Jaccard loss 1, foreground or
    /// background), so the proximal point is `x − 1/λ` above `1/λ`, 0 on `[0, 1/λ]` and `x`
    /// below 0.
    @Test("one pixel is a soft threshold", arguments: [
        (2.0, true, 1.0, 1.0), (0.5, true, 1.0, 0.0), (-0.5, true, 1.0, -0.5),
        (3.0, false, 2.0, 2.5), (0.2, false, 2.0, 0.0), (1.0, true, 4.0, 0.75),
    ])
    func onePixel(margin: Double, foreground: Bool, lambda: Double, expected: Double) throws {
        let u = try lovaszHingeProximal(margins: [margin], foreground: [foreground], lambda: lambda)
        #expect(abs(u[0] - expected) < 1e-12)
    }

    @Test("a large λ leaves the margins almost unchanged; negative margins never move")
    func limits() throws {
        let x = [1.2, -0.3, 0.7, 2.0, -1.0]
        let y = [true, false, false, true, true]
        let near = try lovaszHingeProximal(margins: x, foreground: y, lambda: 1e6)
        for (a, b) in zip(near, x) { #expect(abs(a - b) <= 1e-6) }
        let far = try lovaszHingeProximal(margins: x, foreground: y, lambda: 0.01)
        #expect(far == [0, -0.3, 0, 0, -1.0])
    }

    @Test("the logit form maps through the margins")
    func logits() throws {
        let logits = [0.5, -2.0, 0.1, 1.5]
        let labels: [UInt8] = [1, 0, 0, 1]
        let margins = zip(logits, labels).map { 1 - $0 * ($1 == 1 ? 1 : -1) }
        let u = try lovaszHingeProximal(margins: margins, foreground: labels.map { $0 == 1 }, lambda: 0.8)
        let g = try lovaszHingeProximal(logits: logits, labels: labels, lambda: 0.8)
        for i in logits.indices {
            #expect(abs(g[i] - (1 - u[i]) * (labels[i] == 1 ? 1 : -1)) < 1e-12)
        }
    }

    @Test("bad input is a typed error")
    func errors() {
        #expect(throws: LovaszError.invalidShape("2 margins for 1 foreground flags")) {
            try lovaszHingeProximal(margins: [1, 2], foreground: [true], lambda: 1)
        }
        #expect(throws: LovaszError.self) { try lovaszHingeProximal(margins: [1], foreground: [true], lambda: 0) }
        #expect(throws: LovaszError.self) { try lovaszHingeProximal(margins: [1], foreground: [true], lambda: .nan) }
        #expect(throws: LovaszError.nonFiniteScore(position: [1], value: .infinity)) {
            try lovaszHingeProximal(margins: [1, .infinity], foreground: [true, false], lambda: 1)
        }
        #expect(throws: LovaszError.labelOutOfRange(position: [0], label: "2", classes: 2)) {
            try lovaszHingeProximal(logits: [1], labels: [2], lambda: 1)
        }
        #expect((try? lovaszHingeProximal(margins: [], foreground: [], lambda: 1)) == [])
    }
}
