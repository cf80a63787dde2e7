import LovaszTestSupport
import Testing
@testable import Lovasz

/// The choices of the MSD pass (``ParallelKeySort/fewestBits(sizes:bits:limit:)``, the digit
/// width; ``ParallelKeySort/makeOffsets(workspace:chunks:buckets:)``, the scatter's offsets)
/// and its scatter against their definitions computed directly.
@Suite struct TopDigitTests {
    /// Counts per digit value: uniform, crowded into a few values (as float exponents are), or
    /// all in one value.
    static func counts(bits: Int, kind: Int, seed: UInt64) -> [Int] {
        var random = SplitMix64(seed: seed)
        return (0 ..< 1 << bits).map { value in
            switch kind {
            case 0: return Int(random.next() % 50)
            case 1: return value % 97 == 3 ? Int(random.next() % 40_000) : Int(random.next() % 3)
            default: return value == (1 << bits) / 3 ? 123_456 : 0
            }
        }
    }

    /// `Σ size²` over the buckets of the top `width` bits of a `bits`-bit digit.
    static func naiveSquares(_ counts: [Int], bits: Int, width: Int) -> Double {
        var sizes = [Int](repeating: 0, count: 1 << width)
        for (value, n) in counts.enumerated() { sizes[value >> (bits - width)] += n }
        return sizes.reduce(0.0) { $0 + Double($1) * Double($1) }
    }

    @Test(arguments: [1, 5, 13], [0, 1, 2])
    func fewestBitsIsTheNarrowestPassingWidth(bits: Int, kind: Int) {
        let counts = Self.counts(bits: bits, kind: kind, seed: UInt64(bits * 10 + kind))
        let total = Double(counts.reduce(0, +))
        for target in [1.0, 64, 1024, 40_000, 1e12] {
            let limit = target * total
            let naive = (1...bits).first { Self.naiveSquares(counts, bits: bits, width: $0) <= limit }
            var sizes = counts
            let found = sizes.withUnsafeMutableBufferPointer {
                ParallelKeySort.fewestBits(sizes: $0.baseAddress!, bits: bits, limit: limit)
            }
            #expect(found == naive, "bits \(bits), kind \(kind), target \(target)")
            // The same counts as 32-bit counters (the sampled digit's).
            var narrow = counts.map { UInt32($0) }
            let foundNarrow = narrow.withUnsafeMutableBufferPointer {
                ParallelKeySort.fewestBits(sizes: $0.baseAddress!, bits: bits, limit: limit)
            }
            #expect(foundNarrow == naive)
        }
    }

    @Test(arguments: [1, 3, 8], [1, 6, 13])
    func offsetsAreDigitMajorThenChunk(chunks: Int, bits: Int) {
        var ints = [Int](repeating: 0, count: SortWorkspace.intCount(maxChunks: chunks, workers: 1))
        var keys = [UInt64](repeating: 0, count: 2)
        let buckets = 1 << bits
        let counts = (0..<chunks).map { Self.counts(bits: bits, kind: $0 % 2, seed: UInt64(100 + $0)) }
        // Definition: positions handed out in (digit, chunk) order, digit-major.
        var expected: [[Int]] = Array(repeating: Array(repeating: 0, count: buckets), count: chunks)
        var starts: [Int] = []
        var position = 0
        for d in 0..<buckets {
            starts.append(position)
            for c in 0..<chunks {
                expected[c][d] = position
                position += counts[c][d]
            }
        }
        starts.append(position)
        keys.withUnsafeMutableBufferPointer { keys in
            ints.withUnsafeMutableBufferPointer { ints in
                let space = SortWorkspace(
                    keys: keys.baseAddress!, capacity: 1, ints: ints.baseAddress!, maxChunks: chunks, workers: 1)
                for c in 0..<chunks {
                    for d in 0..<buckets { space.histogram(chunk: c)[d] = counts[c][d] }
                }
                ParallelKeySort.makeOffsets(workspace: space, chunks: chunks, buckets: buckets)
                // Compared whole, so that a failure names the chunk rather than printing 8192 offsets.
                for c in 0..<chunks {
                    let same = Array(UnsafeBufferPointer(start: space.histogram(chunk: c), count: buckets)) == expected[c]
                    #expect(same, "offsets of chunk \(c)")
                }
                let sameStarts = Array(UnsafeBufferPointer(start: space.bucketStarts, count: buckets + 1)) == starts
                #expect(sameStarts, "bucket starts")
            }
        }
    }

    /// The count (``ParallelKeySort/countDigits(workspace:chunks:shift:bits:workers:tuning:)``)
    /// gives each chunk's digit counts and the scatter
    /// (``ParallelKeySort/scatter(workspace:chunks:buckets:shift:workers:tuning:)``) puts the
    /// chunks' keys in a stable order by digit, whichever thread takes which item from which
    /// end: blocks of one position to more than a chunk, items taken from the back before the
    /// front, one thread or three.
    @Test(arguments: [3, 4, 8], [1, 3, 1000])
    func countAndScatterFromEitherEnd(chunks: Int, block: Int) {
        var random = SplitMix64(seed: UInt64(chunks * 1000 + block))
        let bits = 3, shift = 5
        let buckets = 1 << bits
        // Chunks of unequal lengths (one empty), at ranks with gaps between them.
        let lengths = (0..<chunks).map { $0 == 1 ? 0 : 20 + Int(random.next() % 40) }
        let ranks = lengths.indices.map { c in lengths[..<c].reduce(0, +) + 3 * c }
        let capacity = ranks.last! + lengths.last! + 1
        let chunkKeys = lengths.map { n in (0..<n).map { _ in random.next() } }
        func digit(_ key: UInt64) -> Int { Int((key >> UInt64(shift)) & UInt64(buckets - 1)) }
        // Definition: a stable sort by digit of the chunks' keys in chunk order.
        let all = chunkKeys.flatMap { $0 }
        let expected = (0..<buckets).flatMap { d in all.filter { digit($0) == d } }
        for (fromBack, workers) in [(0, 1), (1, 1), (2, 1), (1000, 1), (0, 3), (1, 3)] {
            var ints = [Int](repeating: 0, count: SortWorkspace.intCount(maxChunks: chunks, workers: workers))
            var keys = [UInt64](repeating: 0, count: 2 * capacity)
            let tuning = CPUSortTuning(msdBlockKeys: block, msdItemsTakenFromBack: fromBack)
            let sorted = keys.withUnsafeMutableBufferPointer { keys in
                ints.withUnsafeMutableBufferPointer { ints in
                    let space = SortWorkspace(
                        keys: keys.baseAddress!, capacity: capacity, ints: ints.baseAddress!, maxChunks: chunks,
                        workers: workers)
                    for c in 0..<chunks {
                        space.chunkRanks[c] = ranks[c]
                        space.chunkKept[c] = lengths[c]
                        for (i, key) in chunkKeys[c].enumerated() { space.keys[ranks[c] + i] = key }
                        // Stale counts and ends, which the count must clear.
                        space.histogram(chunk: c).update(repeating: 7, count: buckets)
                        space.ends(chunk: c).update(repeating: 7, count: buckets)
                    }
                    ParallelKeySort.countDigits(
                        workspace: space, chunks: chunks, shift: UInt64(shift), bits: bits, workers: workers, tuning: tuning)
                    for c in 0..<chunks {
                        let counts = (0..<buckets).map { d in chunkKeys[c].filter { digit($0) == d }.count }
                        let same = Array(UnsafeBufferPointer(start: space.histogram(chunk: c), count: buckets)) == counts
                        #expect(same, "counts of chunk \(c), \(fromBack) items from the back, \(workers) workers")
                    }
                    ParallelKeySort.makeOffsets(workspace: space, chunks: chunks, buckets: buckets)
                    ParallelKeySort.scatter(
                        workspace: space, chunks: chunks, buckets: buckets, shift: UInt64(shift), workers: workers,
                        tuning: tuning)
                    return Array(UnsafeBufferPointer(start: space.scratch, count: all.count))
                }
            }
            #expect(sorted == expected, "\(fromBack) items from the back, \(workers) workers")
        }
    }
}
