import CLovaszCPU
import Testing

/// `lovasz_cpu_zero_streaming` (non-temporal stores between an unaligned head and tail)
/// against its definition: exactly the floats asked for become +0, nothing around them changes.
/// (The CPU path with every plane streamed is checked in ``ParallelSortPathTests``.)
@Suite struct StreamingZeroTests {
    @Test(arguments: 0..<8)
    func zeroesExactlyTheRange(offset: Int) {
        for count in [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000] {
            var values = [Float](repeating: .nan, count: offset + count + 8)
            values.withUnsafeMutableBufferPointer { lovasz_cpu_zero_streaming($0.baseAddress! + offset, count) }
            let inside = values[offset ..< offset + count].allSatisfy { $0.bitPattern == 0 }
            let around = values[..<offset].allSatisfy(\.isNaN) && values[(offset + count)...].allSatisfy(\.isNaN)
            #expect(inside && around, "offset \(offset), count \(count)")
        }
    }
}
