import Testing
@testable import Lovasz

/// The parallel score scans (``firstNonFinite(_:workers:)``, ``firstOutsideUnitInterval(_:workers:)``)
/// against the definitions written with float comparisons, on special values placed in every
/// chunk of the scan, on one thread and on several.
@Suite struct ScoreScanTests {
    static let specials: [Float] = [
        .nan, -.nan, Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFC0_0000), .infinity, -.infinity,
        0, -0.0, 1, Float(1).nextUp, Float(1).nextDown, -Float.leastNonzeroMagnitude, .leastNonzeroMagnitude,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.5, -0.5, 2,
    ]

    @Test(arguments: [1, 3])
    func scansFindTheFirstBadScore(workers: Int) {
        // Two chunks of the scan and a tail; ordinary values in [0, 1) elsewhere.
        let count = 2 * (1 << 16) + 123
        for special in Self.specials {
            for position in [0, 1 << 16 - 1, 1 << 16, count - 1] {
                var values = (0..<count).map { Float($0 % 1000) / 1000 }
                values[position] = special
                // A second, later bad value must not be the one reported.
                values[count - 1 - (position == count - 1 ? 1 : 0)] = .nan
                let expectedNonFinite = values.firstIndex { !$0.isFinite }
                let expectedOutside = values.firstIndex { !($0 >= 0 && $0 <= 1) }
                values.withUnsafeBufferPointer { buffer in
                    #expect(firstNonFinite(buffer, workers: workers) == expectedNonFinite, "\(special) at \(position)")
                    #expect(firstOutsideUnitInterval(buffer, workers: workers) == expectedOutside, "\(special) at \(position)")
                }
            }
        }
        let clean = (0..<count).map { Float($0 % 1001) / 1000 }
        clean.withUnsafeBufferPointer { buffer in
            #expect(firstNonFinite(buffer, workers: workers) == nil)
            #expect(firstOutsideUnitInterval(buffer, workers: workers) == nil)
        }
    }
}
