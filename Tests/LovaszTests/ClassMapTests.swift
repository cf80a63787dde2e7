import LovaszTestSupport
import Testing
@testable import Lovasz

/// The label map's class indices, one byte each up to 127 label classes and four bytes from
/// 128 on, against the labels themselves: through the C label pass (int64, uint8 labels) and
/// the Swift one (int16), over several threads.
@Suite struct ClassMapTests {
    @Test(arguments: [1, 2, 21, 127, 128, 300])
    func classIndicesAreTheLabels(classes: Int) throws {
        let (batch, spatial) = (3, 1037)
        var random = SplitMix64(seed: UInt64(classes))
        // 255 is the ignore value (also where it would be a class: the ignore value wins).
        let labels: [Int64] = (0 ..< batch * spatial).map { _ in
            random.next() % 7 == 0 && classes < 256 ? 255 : Int64(random.next() % UInt64(classes))
        }
        let shape = try ProblemShape(scores: [batch, classes, spatial], loss: .softmax)
        func check<Label: FixedWidthInteger>(_ type: Label.Type) throws {
            let converted = labels.map { Label(truncatingIfNeeded: $0) }
            // (uint8 labels may be their own map, borrowed: used while they are.)
            try converted.withUnsafeBufferPointer { converted in
                let map = try LabelMap(labels: converted, shape: shape, ignoreIndex: 255, workers: 2)
                #expect(map.classOf.isNarrow == (classes <= 127), "\(Label.self)")
                #expect(map.classOf.count == labels.count)
                let expected = labels.map { $0 == 255 ? Int32(-1) : Int32($0) }
                let stored = (0 ..< labels.count).map { map.classOf[$0] }
                let viewed = map.classOf.withIndices { indices in (0 ..< labels.count).map { indices.advanced(by: $0)[0] } }
                #expect(stored == expected, "\(Label.self), \(classes) classes")
                #expect(viewed == expected, "\(Label.self), \(classes) classes")
            }
        }
        try check(Int64.self)
        try check(Int16.self)
        if classes <= 255 { try check(UInt8.self) }
    }
}
