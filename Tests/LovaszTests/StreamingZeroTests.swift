import CLovaszCPU
import Testing

/// `lovasz_cpu_zero_streaming` (non-temporal stores of a cache line, or of 16 bytes, between
/// an unaligned head and tail) against its definition: exactly the floats asked for become +0,
/// nothing around them changes. (The CPU path with every plane streamed is checked in
/// ``ParallelSortPathTests``.)
@Suite struct StreamingZeroTests {
    @Test(arguments: 0..<16, [false, true])
    func zeroesExactlyTheRange(offset: Int, narrow: Bool) {
        for count in [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 48, 49, 63, 64, 65, 100, 129, 1000] {
            var values = [Float](repeating: .nan, count: offset + count + 8)
            values.withUnsafeMutableBufferPointer {
                if narrow {
                    lovasz_cpu_zero_streaming_narrow($0.baseAddress! + offset, count)
                } else {
                    lovasz_cpu_zero_streaming($0.baseAddress! + offset, count)
                }
            }
            let inside = values[offset ..< offset + count].allSatisfy { $0.bitPattern == 0 }
            let around = values[..<offset].allSatisfy(\.isNaN) && values[(offset + count)...].allSatisfy(\.isNaN)
            #expect(inside && around, "offset \(offset), count \(count)")
        }
    }
}
