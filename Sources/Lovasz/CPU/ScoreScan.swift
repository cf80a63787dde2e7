/// The flat index of the first NaN or infinite value, tested on the float bits, or `nil`.
///
/// Chunks are scanned in parallel with a branch-free OR of the exponent test, and only a
/// chunk that holds a bad value is searched for its first position.
func firstNonFinite(_ values: UnsafeBufferPointer<Float>, workers: Int) -> Int? {
    let chunk = 1 << 16
    let chunks = (values.count + chunk - 1) / chunk
    let found = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(chunks, 1))
    defer { found.deallocate() }
    found.initialize(repeating: Int.max)
    parallelForEach(count: chunks, workers: workers) { _, index in
        let range = index * chunk ..< min(values.count, (index + 1) * chunk)
        var any: UInt32 = 0
        for i in range {
            let exponent = values[i].bitPattern & 0x7F80_0000
            any |= exponent == 0x7F80_0000 ? 1 : 0
        }
        guard any != 0 else { return }
        found[index] = range.first { PortableMath.isNonFinite(bits: values[$0].bitPattern) } ?? Int.max
    }
    let first = found.min() ?? Int.max
    return first == Int.max ? nil : first
}

/// The flat index of the first value outside `[0, 1]` (NaN and infinities included), or `nil`.
///
/// Scanned as ``firstNonFinite(_:workers:)``: chunks in parallel with a branch-free test, and
/// only a chunk that holds a bad value searched for its first position.
func firstOutsideUnitInterval(_ values: UnsafeBufferPointer<Float>, workers: Int) -> Int? {
    let chunk = 1 << 16
    let chunks = (values.count + chunk - 1) / chunk
    let found = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(chunks, 1))
    defer { found.deallocate() }
    found.initialize(repeating: Int.max)
    parallelForEach(count: chunks, workers: workers) { _, index in
        let range = index * chunk ..< min(values.count, (index + 1) * chunk)
        var any: UInt32 = 0
        for i in range {
            // NaN fails both comparisons.
            any |= values[i] >= 0 && values[i] <= 1 ? 0 : 1
        }
        guard any != 0 else { return }
        found[index] = range.first { !(values[$0] >= 0 && values[$0] <= 1) } ?? Int.max
    }
    let first = found.min() ?? Int.max
    return first == Int.max ? nil : first
}
