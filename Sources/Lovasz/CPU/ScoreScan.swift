/// The flat index of the first NaN or infinite value, tested on the float bits, or `nil`.
///
/// Chunks are scanned in parallel with a branch-free OR of the exponent test, and only a
/// chunk that holds a bad value is searched for its first position.
func firstNonFinite(_ values: UnsafeBufferPointer<Float>, workers: Int) -> Int? {
    firstPosition(in: values, workers: workers) { PortableMath.isNonFinite(bits: $0.bitPattern) }
}

/// The flat index of the first value outside `[0, 1]` (NaN and infinities included), or `nil`.
///
/// Scanned as ``firstNonFinite(_:workers:)``: chunks in parallel with a branch-free test, and
/// only a chunk that holds a bad value searched for its first position.
func firstOutsideUnitInterval(_ values: UnsafeBufferPointer<Float>, workers: Int) -> Int? {
    // NaN fails both comparisons.
    firstPosition(in: values, workers: workers) { !($0 >= 0 && $0 <= 1) }
}

/// The flat index of the first value for which `isBad` holds, or `nil`: chunks of 64 Ki values
/// in parallel, each first tested without branches, and only a chunk holding a bad value
/// searched for its first position.
@inline(__always)
private func firstPosition(
    in values: UnsafeBufferPointer<Float>, workers: Int, isBad: (Float) -> Bool
) -> Int? {
    let chunk = 1 << 16
    let chunks = (values.count + chunk - 1) / chunk
    let found = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(chunks, 1))
    defer { found.deallocate() }
    found.initialize(repeating: Int.max)
    parallelForEach(count: chunks, workers: workers) { _, index in
        let range = index * chunk ..< min(values.count, (index + 1) * chunk)
        var any: UInt32 = 0
        for i in range { any |= isBad(values[i]) ? 1 : 0 }
        guard any != 0 else { return }
        found[index] = range.first { isBad(values[$0]) } ?? Int.max
    }
    let first = found.min() ?? Int.max
    return first == Int.max ? nil : first
}
