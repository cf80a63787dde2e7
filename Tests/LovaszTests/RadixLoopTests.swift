import CLovaszCPU
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The radix sort's inner loops in C against definitions written here: the LSD scatter pass
/// (`lovasz_cpu_radix_scatter`: eight keys of distinct digits at a time with AVX-512F and CD;
/// its scalar form) against a stable scatter, and the insertion pass
/// (`lovasz_cpu_insertion_fix`: blocks of four keys in order passed over with AVX2; its scalar
/// form) against a stable sort and, when its budget runs out, against the scalar form.
@Suite struct RadixLoopTests {
    /// Which form of the C scatter runs.
    enum Form: String, CaseIterable {
        /// `lovasz_cpu_radix_scatter`: the widest form the processor has.
        case widest
        case scalar
    }

    /// How the digits are drawn.
    enum Digits: String, CaseIterable {
        /// Uniform over the mask: vectors of eight mostly distinct digits.
        case spread
        /// A handful of values: most vectors hold equal digits (the one-by-one path).
        case crowded
        /// Runs of equal digits between spread ones: both paths, alternating.
        case mixed
    }

    /// Keys whose digit at `shift` (under `mask`) is drawn as `digits` says; the rest random.
    static func keys(count: Int, shift: Int, mask: UInt64, digits: Digits, seed: UInt64) -> [UInt64] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { i in
            let digit: UInt64
            switch digits {
            case .spread: digit = random.next() & mask
            case .crowded: digit = (random.next() % 3) & mask
            case .mixed: digit = (i / 5) % 2 == 0 ? 7 & mask : random.next() & mask
            }
            let other = random.next() & ~(mask << UInt64(shift))
            return other | digit << UInt64(shift)
        }
    }

    /// The definition: the offsets of the digits' counts, each key in order to its digit's next slot.
    static func stableScatter(_ keys: [UInt64], shift: Int, mask: UInt64) -> (keys: [UInt64], offsets: [UInt32]) {
        var offsets = [UInt32](repeating: 0, count: Int(mask) + 1)
        for key in keys { offsets[Int((key >> UInt64(shift)) & mask)] += 1 }
        var sum: UInt32 = 0
        for d in offsets.indices { (offsets[d], sum) = (sum, sum + offsets[d]) }
        var out = [UInt64](repeating: 0, count: keys.count)
        for key in keys {
            let d = Int((key >> UInt64(shift)) & mask)
            out[Int(offsets[d])] = key
            offsets[d] += 1
        }
        return (out, offsets)
    }

    @Test(arguments: Form.allCases, Digits.allCases)
    func scatterEqualsAStableScatter(form: Form, digits: Digits) {
        for (count, shift, bits) in [(0, 32, 8), (1, 40, 11), (7, 32, 8), (8, 37, 11), (9, 48, 11), (17, 32, 3), (1000, 33, 10), (4099, 48, 11)] {
            let mask = UInt64(1) << UInt64(bits) - 1
            let keys = Self.keys(count: count, shift: shift, mask: mask, digits: digits, seed: UInt64(count * 64 + shift))
            let expected = Self.stableScatter(keys, shift: shift, mask: mask)
            // The offsets on entry: each digit's first position.
            var offsets = [UInt32](repeating: 0, count: Int(mask) + 1)
            for key in keys { offsets[Int((key >> UInt64(shift)) & mask)] += 1 }
            var sum: UInt32 = 0
            for d in offsets.indices { (offsets[d], sum) = (sum, sum + offsets[d]) }
            var out = [UInt64](repeating: 0, count: count)
            keys.withUnsafeBufferPointer { source in
                out.withUnsafeMutableBufferPointer { destination in
                    let scatter = form == .widest ? lovasz_cpu_radix_scatter : lovasz_cpu_radix_scatter_scalar
                    scatter(source.baseAddress, destination.baseAddress, count, UInt32(shift), mask, &offsets)
                }
            }
            let label = "\(count) keys, digit of \(bits) bits at \(shift)"
            #expect(out == expected.keys, "\(label): \(zip(out, expected.keys).filter { $0 != $1 }.count) keys misplaced")
            #expect(offsets == expected.offsets, "\(label): offsets after the pass")
        }
    }

    /// Keys nearly sorted by their key word: sorted, then `displaced` of them moved by up to
    /// `distance` places (ties in the word kept, the low word random).
    static func nearlySorted(count: Int, displaced: Int, distance: Int, seed: UInt64) -> [UInt64] {
        var random = SplitMix64(seed: seed)
        var keys = (0..<count).map { _ in (random.next() % UInt64(max(1, count / 3))) << 32 | random.next() & 0xFFFF_FFFF }
        keys.sort { $0 >> 32 < $1 >> 32 }
        for _ in 0..<displaced where count > 1 {
            let i = Int(random.next() % UInt64(count))
            let j = min(count - 1, i + 1 + Int(random.next() % UInt64(distance)))
            keys.swapAt(i, j)
        }
        return keys
    }

    @Test(arguments: Form.allCases)
    func insertionFixEqualsAStableSort(form: Form) {
        let fix = form == .widest ? lovasz_cpu_insertion_fix : lovasz_cpu_insertion_fix_scalar
        for (count, displaced, distance) in [(1, 0, 1), (2, 1, 1), (5, 2, 3), (9, 3, 8), (1000, 0, 1), (1000, 20, 3), (1003, 40, 40), (4099, 200, 9)] {
            let keys = Self.nearlySorted(count: count, displaced: displaced, distance: distance, seed: UInt64(count + displaced))
            var fixed = keys
            let done = fixed.withUnsafeMutableBufferPointer { fix($0.baseAddress, count, 2 * count) }
            #expect(done == 1, "\(count) keys")
            // Swift's sort is stable: the order the insertion pass must give.
            #expect(fixed == keys.sorted { $0 >> 32 < $1 >> 32 }, "\(count) keys, \(displaced) displaced by up to \(distance)")
        }
    }

    /// With a budget too small the pass stops at the same key in both forms, leaving the keys
    /// in the same (stable, partly sorted) order.
    @Test func insertionFixStopsWhereTheScalarFormStops() {
        let keys = Self.nearlySorted(count: 2000, displaced: 300, distance: 50, seed: 11)
        for budget in [0, 1, 17, 200] {
            var wide = keys, scalar = keys
            let a = wide.withUnsafeMutableBufferPointer { lovasz_cpu_insertion_fix($0.baseAddress, 2000, budget) }
            let b = scalar.withUnsafeMutableBufferPointer { lovasz_cpu_insertion_fix_scalar($0.baseAddress, 2000, budget) }
            #expect(a == 0 && b == 0, "budget \(budget)")
            #expect(wide == scalar, "budget \(budget)")
        }
    }
}
