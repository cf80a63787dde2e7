import CLovaszCPU

/// A stable radix sort of packed ``SortKey`` values by their high 32 bits (the key word); the
/// low word (rank and foreground bit) is carried as payload.
///
/// Because the sort is stable and keys are created in increasing order of their low word, the
/// result is in ascending order of the whole 64-bit key: error descending, then rank
/// ascending. Large inputs take one most-significant-digit pass (up to ``topDigitBits`` bits;
/// ``ParallelKeySort`` for a whole segment) into buckets small enough to stay in cache with
/// their scratch space; each bucket is then sorted by least-significant-digit passes of
/// up to 11 bits, or by insertion when tiny. Digits that are the same for every key of a
/// bucket are skipped, and only the bits below the highest one that varies are sorted.
enum KeyRadixSort {
    /// The most bits of the most significant digit of a large sort. Measured in one process on
    /// the hinge per batch (one segment of 824 K keys on two threads, whose floats crowd into
    /// a few exponents): 13 bits 1.34x faster than 12 (buckets of ~30 K keys as the keys see
    /// them instead of ~60 K, sorted in L2) and 1.10-1.165x faster than 14 (whose histograms
    /// and scatter streams cost more than the smaller buckets save).
    static let topDigitBits = 13
    /// The most buckets of the most significant digit.
    static let topBuckets = 1 << topDigitBits
    /// Buckets of at most this many keys are sorted by LSD passes (their keys and scratch,
    /// 1 MiB, stay in a core's L2 or nearby L3 cache); larger ones take an MSD pass first.
    static let cacheResidentKeys = 1 << 16
    /// Buckets of at most this many keys are sorted by insertion.
    static let insertionKeys = 32
    /// The widest LSD digit.
    static let widestDigit = 11
    /// Integers of histogram space ``sortBucket(_:scratch:count:highBit:histogram:)`` needs.
    static let bucketHistogramSize = 4 * (3 << widestDigit)

    /// One past the highest bit of the key word in which keys differ, given the OR of
    /// `first ^ key` over the keys (32 when every key word is equal).
    @inline(__always)
    static func highBit(varying: UInt64) -> Int {
        max(32, 64 - (varying & 0xFFFF_FFFF_0000_0000).leadingZeroBitCount)
    }

    /// Sorts `keys[0..<count]`, whose bits at and above `highBit` (32...64) are the same in
    /// every key, in place; `scratch[0..<count]` is overwritten.
    ///
    /// - Parameter histogram: ``bucketHistogramSize`` integers of working space.
    static func sortBucket(
        _ keys: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>, count: Int,
        highBit: Int, histogram: UnsafeMutablePointer<Int>, cacheResident: Int = cacheResidentKeys
    ) {
        guard count > 1, highBit > 32 else { return }
        if count <= insertionKeys {
            insertionSort(keys, count: count)
        } else if count <= cacheResident {
            let sorted = leastSignificantFirst(
                keys, scratch: scratch, count: count, lowBit: 32, highBit: highBit, histogram: histogram,
                topBitsFirst: highBit - 32 > 2 * widestDigit && count >= topBitsFirstKeys)
            if sorted != keys { keys.update(from: sorted, count: count) }
        } else {
            mostSignificantFirst(
                keys, scratch: scratch, count: count, highBit: highBit, histogram: histogram, cacheResident: cacheResident)
        }
    }

    /// Whether the LSD scatter passes run `lovasz_cpu_radix_scatter`'s AVX-512 form (eight keys
    /// of distinct digits at a time: a gather, two scatters); elsewhere the Swift loop, which
    /// measured 1.02-1.03x faster than the same loop in C. Measured in one process (alternating
    /// calls, Intel Xeon VM): the 2×3×200×200 confident call 1.038-1.106x (median 1.056x, six
    /// processes), VOC per image trained 1.043-1.078x, the hinge per batch random on one thread
    /// 1.035x; VOC per batch, Cityscapes, ADE20K and the hinge's other cases 0.96-1.04x.
    static let conflictScatter = lovasz_cpu_has_conflict_scatter() != 0

    /// Keys from which a cache-resident sort whose words vary in more than two digits' bits
    /// may leave its lowest digit to an insertion pass (``leastSignificantFirst(_:scratch:count:lowBit:highBit:histogram:topBitsFirst:)``).
    static let topBitsFirstKeys = 2048

    /// Sorts each run of keys equal at and above bit `split` by the bits below it, in place: by
    /// insertion, or by LSD passes in `counters` (``leastSignificantFirst``'s working space).
    private static func sortRuns(
        _ keys: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>, count: Int, split: Int,
        counters: UnsafeMutablePointer<UInt32>
    ) {
        let shift = UInt64(split)
        var i = 0
        while i < count {
            let prefix = keys[i] &>> shift
            var j = i + 1
            while j < count && keys[j] &>> shift == prefix { j += 1 }
            let n = j - i
            if n > insertionKeys {
                let sorted = leastSignificantFirst(
                    keys + i, scratch: scratch + i, count: n, lowBit: 32, highBit: split, counters: counters, topBitsFirst: false)
                if sorted != keys + i { (keys + i).update(from: sorted, count: n) }
            } else if n > 1 {
                insertionSort(keys + i, count: n)
            }
            i = j
        }
    }

    /// Insertion sort by the key word of keys nearly in order; false (part done, still stable)
    /// once more than `budget` keys have been moved (`lovasz_cpu_insertion_fix`: with AVX2, four
    /// keys in order passed over at once). Measured in one process (alternating calls against
    /// the same loop in Swift): the 2×3×200×200 confident call 1.016-1.042x (median 1.034x, six
    /// processes); VOC and the hinge 0.98-1.02x by their medians.
    static func insertionFix(_ keys: UnsafeMutablePointer<UInt64>, count: Int, budget: Int) -> Bool {
        lovasz_cpu_insertion_fix(keys, count, budget) != 0
    }

    /// Stable insertion sort by the key word.
    @inline(__always)
    static func insertionSort(_ keys: UnsafeMutablePointer<UInt64>, count: Int) {
        for i in 1..<count {
            let key = keys[i]
            let word = key &>> 32
            var j = i
            while j > 0 && keys[j - 1] &>> 32 > word {
                keys[j] = keys[j - 1]
                j -= 1
            }
            keys[j] = key
        }
    }

    /// One MSD pass on the bits just below `highBit` from `keys` into `scratch`, each bucket
    /// sorted there, and the result copied back.
    private static func mostSignificantFirst(
        _ keys: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>, count: Int,
        highBit: Int, histogram: UnsafeMutablePointer<Int>, cacheResident: Int
    ) {
        let low = max(32, highBit - widestDigit)
        let buckets = 1 << (highBit - low)
        let shift = UInt64(low), mask = UInt64(buckets - 1)
        let starts = histogram
        starts.update(repeating: 0, count: buckets + 1)
        for i in 0..<count { starts[Int(truncatingIfNeeded: (keys[i] &>> shift) & mask) + 1] &+= 1 }
        for b in 0..<buckets { starts[b + 1] &+= starts[b] }
        let next = histogram + (buckets + 1)
        next.update(from: starts, count: buckets)
        for i in 0..<count {
            let key = keys[i]
            let digit = Int(truncatingIfNeeded: (key &>> shift) & mask)
            scratch[next[digit]] = key
            next[digit] &+= 1
        }
        let inner = histogram + 2 * (buckets + 1)
        for b in 0..<buckets {
            let start = starts[b]
            sortBucket(
                scratch + start, scratch: keys + start, count: starts[b + 1] - start, highBit: low,
                histogram: inner, cacheResident: cacheResident)
        }
        keys.update(from: scratch, count: count)
    }

    /// LSD passes over bits `lowBit..<highBit` (a multiple of no more than 11 bits each),
    /// skipping digits equal in every key.
    ///
    /// With `topBitsFirst`, three passes of which the upper two take 11 bits each; when the keys
    /// spread over the top digit's values (few expected moves), the lowest pass is replaced by an
    /// insertion pass over the keys sorted by their upper 22 bits. The result is the same.
    ///
    /// - Parameters:
    ///   - histogram: at least `2 << widestDigit` integers of working space, used as
    ///     `4 << widestDigit` 32-bit counters (half the cache lines of word-sized ones: measured
    ///     in one process, the 2×3×200×200 confident call 1.07x faster).
    ///   - topBitsFirst: whether the lowest pass may be left to an insertion pass.
    /// - Returns: the buffer holding the sorted keys (`keys` or `scratch`).
    static func leastSignificantFirst(
        _ keys: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>, count: Int,
        lowBit: Int, highBit: Int, histogram: UnsafeMutablePointer<Int>, topBitsFirst: Bool = false
    ) -> UnsafeMutablePointer<UInt64> {
        precondition(count <= Int(UInt32.max))
        return histogram.withMemoryRebound(to: UInt32.self, capacity: 4 << widestDigit) { counters in
            leastSignificantFirst(
                keys, scratch: scratch, count: count, lowBit: lowBit, highBit: highBit, counters: counters,
                topBitsFirst: topBitsFirst)
        }
    }

    private static func leastSignificantFirst(
        _ keys: UnsafeMutablePointer<UInt64>, scratch: UnsafeMutablePointer<UInt64>, count: Int,
        lowBit: Int, highBit: Int, counters histogram: UnsafeMutablePointer<UInt32>, topBitsFirst: Bool
    ) -> UnsafeMutablePointer<UInt64> {
        let width = highBit - lowBit
        // Digits of up to 11 bits (fewer passes) unless the bucket is so small that clearing and
        // summing 2^11 counters per pass would cost more than a pass (measured in one process:
        // 11 bits from 513 keys on, rather than from 2049, 2-3% faster on the VOC trained batch).
        let widest = count <= 512 ? 8 : widestDigit
        let passes = (width + widest - 1) / widest
        // Top bits first: three digits, the two upper ones of 11 bits, so that the lowest pass may
        // be left to an insertion pass.
        let topFirst = topBitsFirst && passes == 3 && widest == widestDigit
        // Digit p covers bits shifts[p] ..< shifts[p] + bits[p]; at most 4 passes of 8 bits.
        var shifts = (0, 0, 0, 0), bits = (0, 0, 0, 0)
        var low = lowBit
        for p in 0..<passes {
            let b = topFirst ? (p == 0 ? width - 2 * widestDigit : widestDigit) : width / passes + (p < width % passes ? 1 : 0)
            switch p {
            case 0: (shifts.0, bits.0) = (low, b)
            case 1: (shifts.1, bits.1) = (low, b)
            case 2: (shifts.2, bits.2) = (low, b)
            default: (shifts.3, bits.3) = (low, b)
            }
            low += b
        }
        let stride = 1 << widest
        // Only the counters each digit uses (a bucket of 2,000 keys would otherwise clear 32 KiB).
        histogram.update(repeating: 0, count: 1 << bits.0)
        if passes > 1 { (histogram + stride).update(repeating: 0, count: 1 << bits.1) }
        if passes > 2 { (histogram + 2 * stride).update(repeating: 0, count: 1 << bits.2) }
        if passes > 3 { (histogram + 3 * stride).update(repeating: 0, count: 1 << bits.3) }
        let s0 = UInt64(shifts.0), m0 = UInt64((1 << bits.0) - 1)
        let s1 = UInt64(shifts.1), m1 = UInt64((1 << bits.1) - 1)
        let s2 = UInt64(shifts.2), m2 = UInt64((1 << bits.2) - 1)
        let s3 = UInt64(shifts.3), m3 = UInt64((1 << bits.3) - 1)
        let h0 = histogram, h1 = histogram + stride, h2 = histogram + 2 * stride, h3 = histogram + 3 * stride
        // Unused passes count into bucket 0 of a spare histogram row (their mask is 0). Top bits
        // first, the lowest digit is counted only when its pass is taken (below): an insertion
        // pass usually finishes the sort, and two counts a key instead of three measured the
        // 2×3×200×200 confident call 1.05x faster (one process, alternating calls).
        // In C (`lovasz_cpu_count_digits`: with BMI2 the variable shifts take no flags; the
        // 2×3×200×200 confident call 1.045× faster than this loop in Swift, alternating processes).
        var digits = (
            lovasz_digit(shift: UInt32(s0), mask: m0, counts: h0), lovasz_digit(shift: UInt32(s1), mask: m1, counts: h1),
            lovasz_digit(shift: UInt32(s2), mask: m2, counts: h2), lovasz_digit(shift: UInt32(s3), mask: m3, counts: h3))
        withUnsafeMutableBytes(of: &digits) { raw in
            let digit = raw.baseAddress!.assumingMemoryBound(to: lovasz_digit.self)
            let first = topFirst ? 1 : 0
            lovasz_cpu_count_digits(keys, count, digit + first, Int32(topFirst ? 2 : passes), scratch)
        }
        // Keys of continuous errors spread over the top digits' values: sorted by them, runs of
        // equal top bits are a few keys long and an insertion pass finishes the sort. Expected
        // moves, with a top bucket of n keys spread evenly over the next digit's 2048 values:
        // n² / 8192; the lowest pass is skipped when they add up to at most a quarter of the
        // keys (the softmax's errors: 0.006-0.05 of them; the hinge's per image, crowded into a
        // few exponents, 0.66 on random logits, where the insertion pass measured slower than the
        // third radix pass, and 1.8 on trained ones). Should the moves pass twice the keys all
        // the same, each run of equal top bits is sorted on its own.
        var skipLowest = false
        if topFirst {
            var squares = 0.0
            for d in 0 ..< 1 << widestDigit { squares += Double(h2[d]) * Double(h2[d]) }
            skipLowest = squares <= Double(1 << widestDigit) * Double(count)
            if !skipLowest {
                for i in 0..<count { h0[Int(truncatingIfNeeded: (keys[i] &>> s0) & m0)] &+= 1 }
            }
        }
        var source = keys, destination = scratch
        for p in (skipLowest ? 1 : 0) ..< passes {
            let (shift, mask, offsets): (UInt64, UInt64, UnsafeMutablePointer<UInt32>)
            switch p {
            case 0: (shift, mask, offsets) = (s0, m0, h0)
            case 1: (shift, mask, offsets) = (s1, m1, h1)
            case 2: (shift, mask, offsets) = (s2, m2, h2)
            default: (shift, mask, offsets) = (s3, m3, h3)
            }
            if offsets[Int(truncatingIfNeeded: (source[0] &>> shift) & mask)] == UInt32(truncatingIfNeeded: count) { continue }
            var sum: UInt32 = 0
            for d in 0...Int(mask) {
                let c = offsets[d]
                offsets[d] = sum
                sum &+= c
            }
            if conflictScatter {
                lovasz_cpu_radix_scatter(source, destination, count, UInt32(shift), mask, offsets)
            } else {
                for i in 0..<count {
                    let key = source[i]
                    let digit = Int(truncatingIfNeeded: (key &>> shift) & mask)
                    destination[Int(truncatingIfNeeded: offsets[digit])] = key
                    offsets[digit] &+= 1
                }
            }
            swap(&source, &destination)
        }
        if skipLowest && !insertionFix(source, count: count, budget: 2 * count) {
            sortRuns(source, scratch: destination, count: count, split: shifts.1, counters: histogram)
        }
        return source
    }
}
