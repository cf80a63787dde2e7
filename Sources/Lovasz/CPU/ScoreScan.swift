/// The flat index of the first NaN or infinite value, tested on the float bits, or `nil`.
///
/// Chunks are scanned in parallel with a branch-free OR of the exponent test, and only a
/// chunk that holds a bad value is searched for its first position.
func firstNonFinite(_ values: UnsafeBufferPointer<Float>, workers: Int) -> Int? {
    firstPosition(in: values, workers: workers, NonFiniteScore.self)
}

/// The flat index of the first value outside `[0, 1]` (NaN and infinities included), or `nil`.
///
/// Scanned as ``firstNonFinite(_:workers:)``: chunks in parallel with a branch-free test, and
/// only a chunk that holds a bad value searched for its first position.
func firstOutsideUnitInterval(_ values: UnsafeBufferPointer<Float>, workers: Int) -> Int? {
    firstPosition(in: values, workers: workers, ScoreOutsideUnitInterval.self)
}

/// A test of one score, as a type so that the parallel scan is specialized for it (a closure
/// passed into the scan's parallel loop was called, not inlined, for every score).
private protocol BadScore {
    static func isBad(_ x: Float) -> Bool
}

private enum NonFiniteScore: BadScore {
    @inline(__always) static func isBad(_ x: Float) -> Bool { PortableMath.isNonFinite(bits: x.bitPattern) }
}

private enum ScoreOutsideUnitInterval: BadScore {
    // NaN fails both comparisons.
    @inline(__always) static func isBad(_ x: Float) -> Bool { !(x >= 0 && x <= 1) }
}

/// The flat index of the first value for which `isBad` holds, or `nil`: chunks of 64 Ki values
/// in parallel, each first tested without branches, and only a chunk holding a bad value
/// searched for its first position.
private func firstPosition<Test: BadScore>(
    in values: UnsafeBufferPointer<Float>, workers: Int, _ test: Test.Type
) -> Int? {
    let chunk = 1 << 16
    let chunks = (values.count + chunk - 1) / chunk
    let found = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(chunks, 1))
    defer { found.deallocate() }
    found.initialize(repeating: Int.max)
    parallelForEach(count: chunks, workers: workers) { _, index in
        let range = index * chunk ..< min(values.count, (index + 1) * chunk)
        var any: UInt32 = 0
        for i in range { any |= Test.isBad(values[i]) ? 1 : 0 }
        guard any != 0 else { return }
        found[index] = range.first { Test.isBad(values[$0]) } ?? Int.max
    }
    let first = found.min() ?? Int.max
    return first == Int.max ? nil : first
}
