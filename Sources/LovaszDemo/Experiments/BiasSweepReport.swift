import Foundation

/// The text, plot and CSV of the Fig. 3 experiment.
extension BiasSweep {
    static let colours: [SweepLoss: RGB] = [
        .jaccard: RGB(0, 0, 0), .lovaszHinge: RGB(214, 39, 40),
        .hinge: RGB(31, 119, 180), .crossEntropy: RGB(44, 160, 44),
    ]

    /// The table of normalised losses (every `every`-th bias and every minimiser) and the
    /// summary of the minima.
    public func report(every: Int = 5) -> String {
        var table = TextTable(["b"] + SweepLoss.allCases.map(\.rawValue) + ["minimum of"], leftAligned: [0, SweepLoss.allCases.count + 1])
        let normalisedCurves = SweepLoss.allCases.map { normalised($0) }
        let minimisers = Set(SweepLoss.allCases.map { argmin($0) })
        for i in biases.indices where i % every == 0 || minimisers.contains(i) {
            let minimal = SweepLoss.allCases.filter { argmin($0) == i }.map(\.rawValue).joined(separator: ", ")
            table.add([String(format: "%+.2f", biases[i])] + normalisedCurves.map { String(format: "%.3f", $0[i]) } + [minimal])
        }
        var lines = [table.render(), ""]
        let jaccard = argmin(.jaccard)
        for loss in SweepLoss.allCases {
            let steps = stepsFromJaccardMinimum(loss)
            let distance = loss == .jaccard ? "" : "  (\(steps) step\(steps == 1 ? "" : "s") from the Jaccard minimum)"
            let name = loss.rawValue.padding(toLength: 21, withPad: " ", startingAt: 0)
            lines.append("  minimum of the \(name) at b = \(String(format: "%+.2f", biases[argmin(loss)]))" + distance)
        }
        let verdict = reproducesFinding ? "REPRODUCED" : "NOT reproduced"
        lines.append("")
        lines.append("  Finding (Fig. 3): only the Lovász hinge is minimised within one sweep step (\(String(format: "%.2g", step)))")
        lines.append("  of the Jaccard loss's minimum (b = \(String(format: "%+.2f", biases[jaccard]))); the hinge and the cross-entropy are")
        lines.append("  minimised near the accuracy optimum, predicting too little foreground: \(verdict).")
        return lines.joined(separator: "\n")
    }

    /// The plot of the four normalised losses against `b`, each minimum marked.
    public func plot() -> LinePlot {
        LinePlot(
            title: "Losses of the classifier f > −b (Sec. 4.1, Fig. 3), normalised",
            xLabel: "bias b", yLabel: "normalised loss",
            series: SweepLoss.allCases.map { loss in
                LinePlot.Series(
                    name: loss.rawValue, colour: Self.colours[loss]!,
                    points: zip(biases, normalised(loss)).map { (x: $0, y: $1) },
                    marked: [argmin(loss)], dashed: loss == .jaccard)
            },
            yRange: 0...1)
    }

    /// Every bias with the raw value of each loss.
    public func csv() -> String {
        var lines = ["b," + SweepLoss.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ",")]
        for i in biases.indices {
            lines.append(([biases[i]] + SweepLoss.allCases.map { values[$0]![i] }).map { String($0) }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
