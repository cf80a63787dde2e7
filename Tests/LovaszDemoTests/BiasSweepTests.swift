import Foundation
import Lovasz
import LovaszDemo
import Testing

/// The Lovász hinge straight from Eq. (8)-(9): positive margins sorted decreasingly, each
/// weighted by the increase of the Jaccard loss (recomputed from sets) when its pixel joins
/// the mistakes. `O(p²)`: for small data only.
private func naiveLovaszHinge(scores: [Float], labels: [UInt8]) -> Double {
    let margins = zip(scores, labels).map { 1 - Double($0) * ($1 == 1 ? 1 : -1) }
    let order = margins.indices.filter { margins[$0] > 0 }.sorted { margins[$0] > margins[$1] }
    var mistakes = [Bool](repeating: false, count: margins.count)
    var previous = 0.0, total = 0.0
    for i in order {
        mistakes[i] = true
        var intersection = 0, union = 0
        for j in labels.indices {
            if labels[j] == 1 && !mistakes[j] { intersection += 1 }
            if labels[j] == 1 || mistakes[j] { union += 1 }
        }
        let loss = union == 0 ? 0 : 1 - Double(intersection) / Double(union)
        total += margins[i] * (loss - previous)
        previous = loss
    }
    return total
}

@Suite("Fig. 3 bias sweep")
struct BiasSweepTests {
    @Test("the paper's finding holds on the demo's seed and on others",
          arguments: [2018, 0, 1, 2] as [UInt64])
    func finding(seed: UInt64) throws {
        let sweep = try BiasSweep(data: SyntheticCircles(seed: seed), engine: LovaszEngine(backend: .cpu))
        #expect(abs(sweep.step - 0.1) < 1e-12 && sweep.biases.count == 61)
        #expect(sweep.stepsFromJaccardMinimum(.lovaszHinge) <= 1)
        #expect(sweep.stepsFromJaccardMinimum(.hinge) > 1)
        #expect(sweep.stepsFromJaccardMinimum(.crossEntropy) > 1)
        #expect(sweep.reproducesFinding)
        // The per-pixel losses favour the background: their minima lie below the Jaccard one.
        #expect(sweep.minimizer(.hinge) < sweep.minimizer(.jaccard))
        #expect(sweep.minimizer(.crossEntropy) < sweep.minimizer(.jaccard))
        let report = sweep.report()
        #expect(report.contains("REPRODUCED") && !report.contains("NOT reproduced"))
    }

    @Test("every curve matches a naive recomputation", arguments: [false, true])
    func curvesMatchNaive(perImage: Bool) throws {
        let data = SyntheticCircles(count: 3, size: 10, radii: 2...4, seed: 5)
        let biases = [-1.0, -0.3, 0.4]
        let sweep = try BiasSweep(data: data, biases: biases, perImage: perImage, engine: LovaszEngine(backend: .cpu))
        let pixels = data.size * data.size
        for (k, b) in biases.enumerated() {
            let scores = data.features.map { $0 + Float(b) }
            let groups = perImage ? (0..<data.count).map { $0 * pixels ..< ($0 + 1) * pixels } : [0 ..< scores.count]
            var jaccard = 0.0, lovasz = 0.0
            for group in groups {
                let s = Array(scores[group]), y = Array(data.labels[group])
                let predicted = Set(s.indices.filter { s[$0] > 0 }), truth = Set(y.indices.filter { y[$0] == 1 })
                let union = predicted.union(truth).count
                jaccard += union == 0 ? 0 : 1 - Double(predicted.intersection(truth).count) / Double(union)
                lovasz += naiveLovaszHinge(scores: s, labels: y)
            }
            jaccard /= Double(groups.count)
            lovasz /= Double(groups.count)
            let signed = zip(scores, data.labels).map { Double($0) * ($1 == 1 ? 1 : -1) }
            let hinge = signed.map { max(0, 1 - $0) }.reduce(0, +) / Double(signed.count)
            let crossEntropy = signed.map { log(1 + exp(-$0)) }.reduce(0, +) / Double(signed.count)
            #expect(abs(sweep.values[.jaccard]![k] - jaccard) < 1e-12)
            #expect(abs(sweep.values[.lovaszHinge]![k] - lovasz) < 1e-5 * max(1, lovasz))
            #expect(abs(sweep.values[.hinge]![k] - hinge) < 1e-9)
            #expect(abs(sweep.values[.crossEntropy]![k] - crossEntropy) < 1e-9)
        }
    }

    @Test("normalised curves span [0, 1] and the CSV holds every bias")
    func normalisationAndCSV() throws {
        let sweep = try BiasSweep(data: SyntheticCircles(count: 2, size: 12, seed: 3), biases: [-1, -0.5, 0, 0.5, 1], engine: LovaszEngine(backend: .cpu))
        for loss in SweepLoss.allCases {
            let curve = sweep.normalised(loss)
            #expect(curve.min() == 0 && curve.max() == 1)
            #expect(curve[sweep.argmin(loss)] == 0)
        }
        let lines = sweep.csv().split(separator: "\n")
        #expect(lines.count == 1 + 5)
        #expect(lines[0].hasPrefix("b,"))
        #expect(throws: LovaszError.self) { try BiasSweep(data: SyntheticCircles(count: 1, size: 8), biases: [0], engine: LovaszEngine(backend: .cpu)) }
    }

    @Test("the data are those the paper describes")
    func data() {
        let data = SyntheticCircles()
        #expect(data.count == 10 && data.size == 50 && data.labels.count == 25_000)
        #expect((0.05...0.3).contains(data.foregroundFraction))
        // Feature means of about ±1/2 and unit variance on each side.
        for label in [UInt8(0), 1] {
            let values = zip(data.features, data.labels).filter { $0.1 == label }.map { Double($0.0) }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            #expect(abs(mean - (label == 1 ? 0.5 : -0.5)) < 0.1)
            #expect(abs(variance - 1) < 0.1)
        }
        #expect(SyntheticCircles(seed: 9).features == SyntheticCircles(seed: 9).features)
    }
}
