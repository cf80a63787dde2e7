/// A stable least-significant-digit radix sort of packed keys by their high 32 bits.
///
/// The low 32 bits are carried along as payload. Because the sort is stable and the keys are
/// created in increasing order of their low word, the result is in ascending order of the
/// whole 64-bit key, the total order of ``SortKey``. Three passes of 11, 11 and 10 bits;
/// a pass whose digit is the same for every key is skipped.
enum RadixSort {
    static let digitBits = 11
    static let buckets = 1 << digitBits
    static let shifts: [UInt64] = [32, 43, 54]

    /// Sorts `keys[0..<count]`, using `scratch[0..<count]` as the other buffer.
    ///
    /// - Returns: the buffer that holds the sorted keys (`keys` or `scratch`).
    static func sortByHighWord(
        _ keys: UnsafeMutablePointer<UInt64>,
        scratch: UnsafeMutablePointer<UInt64>,
        count: Int,
        histogram: UnsafeMutablePointer<Int>
    ) -> UnsafeMutablePointer<UInt64> {
        let passes = shifts.count
        histogram.initialize(repeating: 0, count: passes * buckets)
        let mask = UInt64(buckets - 1)
        let h0 = histogram, h1 = histogram + buckets, h2 = histogram + 2 * buckets
        for i in 0..<count {
            let k = keys[i]
            h0[Int(truncatingIfNeeded: (k >> 32) & mask)] += 1
            h1[Int(truncatingIfNeeded: (k >> 43) & mask)] += 1
            h2[Int(truncatingIfNeeded: k >> 54)] += 1
        }
        var source = keys
        var destination = scratch
        for pass in 0..<passes {
            let h = histogram + pass * buckets
            let shift = shifts[pass]
            if count == 0 || h[Int(truncatingIfNeeded: (source[0] >> shift) & mask)] == count { continue }
            var sum = 0
            for b in 0..<buckets {
                let c = h[b]
                h[b] = sum
                sum += c
            }
            for i in 0..<count {
                let k = source[i]
                let d = Int(truncatingIfNeeded: (k >> shift) & mask)
                destination[h[d]] = k
                h[d] += 1
            }
            swap(&source, &destination)
        }
        return source
    }
}
