import CLovaszCPU
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The radix sort's counts in C (`lovasz_cpu_count_digits`, BMI2 where the processor has it)
/// against counts made here: one to four digits of any width and position, lengths with
/// tails, counts added to what the counters held.
@Suite struct DigitCountTests {
    @Test(arguments: [1, 2, 3, 4], [0, 1, 7, 8, 9, 1000])
    func countsAreTheDigits(digits: Int, count: Int) {
        var random = SplitMix64(seed: UInt64(digits * 1000 + count))
        let keys = (0..<count).map { _ in random.next() }
        let layout: [(shift: Int, bits: Int)] = [(32, 11), (43, 11), (54, 10), (1, 8)]
        let initial = layout.map { [UInt32](repeating: 3, count: 1 << $0.bits) }
        var expected = initial
        for key in keys {
            for d in 0..<digits {
                expected[d][Int((key >> UInt64(layout[d].shift)) & UInt64((1 << layout[d].bits) - 1))] += 1
            }
        }
        let scratch = [UInt64](repeating: 0, count: max(1, count))
        let rows = initial.map { row in
            let buffer = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: row.count)
            _ = buffer.initialize(from: row)
            return buffer
        }
        defer { rows.forEach { $0.deallocate() } }
        let digit = (0..<4).map {
            lovasz_digit(
                shift: UInt32(layout[$0].shift), mask: UInt64((1 << layout[$0].bits) - 1), counts: rows[$0].baseAddress)
        }
        lovasz_cpu_count_digits(keys, count, digit, Int32(digits), scratch)
        let counters = rows.map { Array($0) }
        for d in 0..<4 {
            let wrong = zip(counters[d], expected[d]).filter { $0 != $1 }.count
            #expect(wrong == 0, "digit \(d) of \(digits), \(count) keys: \(wrong) counters differ")
        }
    }
}
