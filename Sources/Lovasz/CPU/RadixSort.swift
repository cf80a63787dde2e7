/// A stable least-significant-digit radix sort of packed keys by their high 32 bits.
///
/// The low 32 bits are carried along as payload. Because the sort is stable and the keys are
/// created in increasing order of their low word, the result is in ascending order of the
/// whole 64-bit key, the total order of ``SortKey``. Four passes of 8 bits (256 buckets keep
/// every scatter stream in L1); a pass whose digit is the same for every key is skipped.
/// The digit counts are gathered while the keys are created (``count(_:into:)``), so sorting
/// starts with the first scatter.
enum RadixSort {
    static let passes = 4
    static let buckets = 256
    /// Integers of histogram space one sort needs.
    static let histogramSize = passes * buckets

    /// Adds the four digits of `key`'s high word to `histogram`.
    @inline(__always)
    static func count(_ key: UInt64, into histogram: UnsafeMutablePointer<Int>) {
        histogram[Int(truncatingIfNeeded: (key &>> 32) & 0xFF)] &+= 1
        histogram[256 + Int(truncatingIfNeeded: (key &>> 40) & 0xFF)] &+= 1
        histogram[512 + Int(truncatingIfNeeded: (key &>> 48) & 0xFF)] &+= 1
        histogram[768 + Int(truncatingIfNeeded: key &>> 56)] &+= 1
    }

    /// Sorts `keys[0..<count]` whose digits were counted into `histogram`, using
    /// `scratch[0..<count]` as the other buffer. `histogram` is consumed.
    ///
    /// - Returns: the buffer that holds the sorted keys (`keys` or `scratch`).
    static func sort(
        _ keys: UnsafeMutablePointer<UInt64>,
        scratch: UnsafeMutablePointer<UInt64>,
        count: Int,
        countedHistogram histogram: UnsafeMutablePointer<Int>
    ) -> UnsafeMutablePointer<UInt64> {
        var source = keys
        var destination = scratch
        guard count > 1 else { return source }
        for pass in 0..<passes {
            let offsets = histogram + pass * buckets
            let shift = UInt64(32 + 8 * pass)
            if offsets[Int(truncatingIfNeeded: (source[0] &>> shift) & 0xFF)] == count { continue }
            var sum = 0
            for b in 0..<buckets {
                let c = offsets[b]
                offsets[b] = sum
                sum &+= c
            }
            for i in 0..<count {
                let key = source[i]
                let digit = Int(truncatingIfNeeded: (key &>> shift) & 0xFF)
                destination[offsets[digit]] = key
                offsets[digit] &+= 1
            }
            swap(&source, &destination)
        }
        return source
    }
}
