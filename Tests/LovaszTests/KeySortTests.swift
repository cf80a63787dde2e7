import LovaszTestSupport
import Testing
@testable import Lovasz

/// The CPU sort of packed keys against a plain stable sort, and the key order itself against
/// "error descending, then rank ascending" computed on the floats.
@Suite struct KeySortTests {
    /// Keys drawn from a few distributions: spread floats, a narrow band, many ties, and
    /// hinge-like signed errors.
    static func keys(count: Int, kind: Int, seed: UInt64) -> [UInt64] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { rank in
            let error: Float
            switch kind {
            case 0: error = Float.random(in: 0...1, using: &random) * Float.random(in: 0...1, using: &random)
            case 1: error = 0.5 + Float(random.next() % 64) * 0x1p-20
            case 2: error = Float(random.next() % 3) * 0.25
            default: error = Float.random(in: -8...8, using: &random)
            }
            return SortKey.pack(error: error, rank: rank, foreground: random.next() & 1 == 0)
        }
    }

    static func sortedByKeyWord(_ keys: [UInt64]) -> [UInt64] {
        // A stable sort by the key word alone (Swift's sort is stable).
        keys.sorted { $0 >> 32 < $1 >> 32 }
    }

    static func bucketSorted(_ input: [UInt64], cacheResident: Int) -> [UInt64] {
        var keys = input
        var scratch = [UInt64](repeating: 0, count: keys.count)
        var histogram = [Int](repeating: 0, count: KeyRadixSort.bucketHistogramSize)
        keys.withUnsafeMutableBufferPointer { k in
            scratch.withUnsafeMutableBufferPointer { s in
                histogram.withUnsafeMutableBufferPointer { h in
                    KeyRadixSort.sortBucket(
                        k.baseAddress!, scratch: s.baseAddress!, count: k.count, highBit: 64,
                        histogram: h.baseAddress!, cacheResident: cacheResident)
                }
            }
        }
        return keys
    }

    @Test(arguments: [0, 1, 2, 3])
    func bucketSortEqualsStableSort(kind: Int) {
        for count in [0, 1, 2, 23, 24, 25, 300, 2049, 5000] {
            let keys = Self.keys(count: count, kind: kind, seed: UInt64(count * 7 + kind))
            let expected = Self.sortedByKeyWord(keys)
            // Every path: insertion, LSD, and MSD passes nested down to LSD in small buckets.
            for cacheResident in [KeyRadixSort.cacheResidentKeys, 64, 25] {
                #expect(Self.bucketSorted(keys, cacheResident: cacheResident) == expected, "kind \(kind), \(count) keys, \(cacheResident)")
            }
        }
    }

    /// Keys of 30-bit words `top << 19 | middle << 8 | low` whose top digit takes `topValues`
    /// values, the middle digit random or constant, and the low one random: the top-bits-first
    /// sort finished by its insertion pass (spread), by each run's own LSD pass (runs of about
    /// 512 keys) or insertion (about 16), or not taken (two top values: crowded).
    @Test(arguments: [(2048, true), (16, false), (512, false), (2, false), (2048, false)])
    func topBitsFirstEqualsStableSort(topValues: Int, randomMiddle: Bool) {
        var random = SplitMix64(seed: UInt64(topValues) + (randomMiddle ? 1 : 0))
        for count in [2048, 8192] {
            let keys: [UInt64] = (0..<count).map { rank in
                let top = UInt64(random.next() % UInt64(topValues)) * UInt64(2048 / topValues)
                let middle = randomMiddle ? random.next() % 2048 : 1000
                let word = top << 19 | middle << 8 | random.next() % 256
                return word << 32 | UInt64(rank) << 1 | random.next() & 1
            }
            let expected = Self.sortedByKeyWord(keys)
            var sorted = keys
            var scratch = [UInt64](repeating: 0, count: count)
            var histogram = [Int](repeating: 0, count: KeyRadixSort.bucketHistogramSize)
            sorted.withUnsafeMutableBufferPointer { k in
                scratch.withUnsafeMutableBufferPointer { s in
                    histogram.withUnsafeMutableBufferPointer { h in
                        KeyRadixSort.sortBucket(
                            k.baseAddress!, scratch: s.baseAddress!, count: count, highBit: 62, histogram: h.baseAddress!)
                    }
                }
            }
            #expect(sorted == expected, "\(topValues) top values, \(count) keys")
        }
    }

    @Test func keyOrderIsErrorDescendingThenRank() {
        let specials: [Float] = [
            0, -0.0, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
            0x1p-127, 1 - .ulpOfOne / 2, 1 + .ulpOfOne, 2, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            0.5, 0.5, -0.5, 1e-30, -1e-30, 0x1.fffffep-1, 3,
        ]
        var entries: [(error: Float, rank: Int, foreground: Bool)] = []
        for (rank, error) in specials.enumerated() { entries.append((error, rank, rank % 3 == 0)) }
        for i in 0..<entries.count {
            for j in 0..<entries.count {
                let a = entries[i], b = entries[j]
                // -0 and +0 are the same error.
                let ea = a.error == 0 ? 0 : a.error, eb = b.error == 0 ? 0 : b.error
                let before = ea != eb ? ea > eb : a.rank < b.rank
                let ka = SortKey.pack(error: a.error, rank: a.rank, foreground: a.foreground)
                let kb = SortKey.pack(error: b.error, rank: b.rank, foreground: b.foreground)
                #expect((ka < kb) == before, "\(a) vs \(b)")
            }
        }
        for entry in entries {
            let key = SortKey.pack(error: entry.error, rank: entry.rank, foreground: entry.foreground)
            let back = SortKey.error(of: key)
            #expect(back == entry.error && (entry.error != 0 || back.sign == .plus), "\(entry.error) comes back as \(back)")
            #expect(SortKey.rank(of: key) == entry.rank)
            #expect(SortKey.isForeground(key) == entry.foreground)
        }
    }

    /// Errors in [0, 1] leave the two top bits of the key word constant, as the top digit the
    /// CPU path counts while creating keys assumes (it recounts when they are not).
    @Test func unitErrorsFitThirtyBits() {
        for error: Float in [0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, 0.25, 1 - .ulpOfOne / 2, 1] {
            let word = SortKey.descending(error)
            #expect(word >> 30 == 1, "\(error): \(String(word, radix: 16))")
        }
    }
}
