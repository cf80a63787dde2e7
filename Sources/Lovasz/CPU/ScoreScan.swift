import Synchronization

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
    /// A number from a score's bits that is above ``limit`` exactly when the score is bad: the
    /// branch-free test of a chunk takes the largest over it, which the compiler vectorizes
    /// (measured in one process: the hinge per batch 1.011-1.039x faster than an OR of tests).
    static func rank(bits: UInt32) -> UInt32
    static var limit: UInt32 { get }
}

private enum NonFiniteScore: BadScore {
    @inline(__always) static func isBad(_ x: Float) -> Bool { PortableMath.isNonFinite(bits: x.bitPattern) }
    /// The exponent field: all ones for NaN and the infinities.
    @inline(__always) static func rank(bits: UInt32) -> UInt32 { bits & 0x7F80_0000 }
    static var limit: UInt32 { 0x7F7F_FFFF }
}

private enum ScoreOutsideUnitInterval: BadScore {
    // NaN fails both comparisons.
    @inline(__always) static func isBad(_ x: Float) -> Bool { !(x >= 0 && x <= 1) }
    /// The bits, -0 taken as +0: as unsigned integers, the scores in [0, 1] are exactly those
    /// at most the bits of 1 (negative scores have the sign bit, NaNs a larger exponent).
    @inline(__always) static func rank(bits: UInt32) -> UInt32 { bits == 0x8000_0000 ? 0 : bits }
    static var limit: UInt32 { 0x3F80_0000 }
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
        var worst: UInt32 = 0
        for i in range { worst = max(worst, Test.rank(bits: values[i].bitPattern)) }
        guard worst > Test.limit else { return }
        found[index] = range.first { Test.isBad(values[$0]) } ?? Int.max
    }
    let first = found.min() ?? Int.max
    return first == Int.max ? nil : first
}

/// Whether a pass that validates the scores it reads has met a NaN or infinity: set by any of
/// the call's threads, read once they are done.
final class NonFiniteFlag: Sendable {
    private let seen = Atomic<Bool>(false)

    func set() { seen.store(true, ordering: .relaxed) }

    /// Read after the passes (the worker pool's hand-back orders their stores before it).
    var isSet: Bool { seen.load(ordering: .relaxed) }
}
