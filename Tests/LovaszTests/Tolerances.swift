import Testing

/// The tolerances of docs/DESIGN.md §6 for the CPU path (Float) against the naive reference (Double).
enum Tolerance {
    /// Loss: relative.
    static let lossRelative = 1e-5
    /// Loss: absolute, for losses near zero.
    static let lossAbsolute = 1e-6
    /// Gradient: absolute, element by element.
    static let gradient = 1e-5
}

/// Whether a loss agrees with the reference within ``Tolerance``.
func lossAgrees(_ actual: Double, _ expected: Double) -> Bool {
    abs(actual - expected) <= max(Tolerance.lossRelative * abs(expected), Tolerance.lossAbsolute)
}

/// The largest absolute difference between two gradients, and where it is.
func largestDifference(_ actual: [Float], _ expected: [Double]) -> (difference: Double, index: Int) {
    var worst = (difference: 0.0, index: 0)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(Double(a) - e) <= worst.difference) {
        worst = (abs(Double(a) - e), i)
    }
    return worst
}

/// Expects `actual` to agree with the reference loss within ``Tolerance``.
func expectLoss(
    _ actual: Double, _ expected: Double, _ context: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        lossAgrees(actual, expected), "\(context()): loss \(actual), reference \(expected)",
        sourceLocation: sourceLocation)
}

/// Expects every element of `actual` within `tolerance` of the reference gradient.
func expectGradient(
    _ actual: [Float], _ expected: [Double], tolerance: Double = Tolerance.gradient,
    _ context: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(context()): gradient length", sourceLocation: sourceLocation)
    let worst = largestDifference(actual, expected)
    #expect(
        worst.difference <= tolerance,
        "\(context()): gradient differs by \(worst.difference) at flat index \(worst.index): \(actual[worst.index]) vs reference \(expected[worst.index])",
        sourceLocation: sourceLocation)
}
