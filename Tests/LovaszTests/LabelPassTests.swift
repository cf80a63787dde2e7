import CLovaszCPU
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The label pass in C (`lovasz_cpu_map_labels_*`, AVX2 where available, and the scalar forms)
/// against the definition written here: each label the ignore value (→ -1), a class (→ itself,
/// counted), or bad (the first one reported; nothing after it is checked); class indices stored
/// one byte each (up to 127 classes), four, or not at all (labels only checked and counted).
@Suite struct LabelPassTests {
    struct Mapped: Equatable {
        var out: [Int32]
        var counts: [UInt32]
        var ignored: Bool
        var firstBad: Int64
    }

    static func naive(_ labels: [Int64], ignore: Int64?, classes: Int) -> Mapped {
        var result = Mapped(out: [], counts: [UInt32](repeating: 0, count: classes), ignored: false, firstBad: -1)
        for (i, label) in labels.enumerated() {
            if let ignore, label == ignore {
                result.out.append(-1)
                result.ignored = true
            } else if label >= 0 && label < Int64(classes) {
                result.out.append(Int32(label))
                result.counts[Int(label)] += 1
            } else {
                result.firstBad = Int64(i)
                break
            }
        }
        return result
    }

    enum LabelType: String, CaseIterable, CustomTestStringConvertible {
        case int64, int32, uint8
        var testDescription: String { rawValue }
    }

    /// Where the class indices go: four bytes each, one, or nowhere.
    enum Output: CaseIterable {
        case wide, narrow, none
    }

    /// Runs one form on `labels` converted to `type` (values must fit it), storing the class
    /// indices as `output` says (with none, `out` is left empty).
    static func run(
        _ labels: [Int64], type: LabelType, scalar: Bool, ignore: Int64?, classes: Int, output: Output
    ) -> Mapped {
        var wide = [Int32](repeating: 99, count: labels.count)
        var bytes = [Int8](repeating: 99, count: labels.count)
        var counts = [UInt32](repeating: 0, count: classes)
        var ignored: Int32 = 0
        let hasIgnore: Int32 = ignore == nil ? 0 : 1
        let ignoreValue = ignore ?? 0
        let bad: Int64 = wide.withUnsafeMutableBufferPointer { wide in
            bytes.withUnsafeMutableBufferPointer { bytes in
                let out = switch output {
                case .narrow: lovasz_class_output(narrow: bytes.baseAddress, wide: nil)
                case .wide: lovasz_class_output(narrow: nil, wide: wide.baseAddress)
                case .none: lovasz_class_output(narrow: nil, wide: nil)
                }
                return Self.map(labels, type: type, scalar: scalar, hasIgnore: hasIgnore, ignore: ignoreValue, classes: classes,
                                out: out, counts: &counts, ignored: &ignored)
            }
        }
        let out = output == .narrow ? bytes.map { Int32($0) } : wide
        // Entries after a bad label are unspecified: compare up to it.
        let kept = output == .none ? 0 : bad < 0 ? labels.count : Int(bad)
        if output == .none {
            #expect(wide.allSatisfy { $0 == 99 } && bytes.allSatisfy { $0 == 99 }, "nothing is stored")
        }
        return Mapped(out: Array(out[0..<kept]), counts: bad < 0 ? counts : [], ignored: ignored != 0, firstBad: bad)
    }

    /// Calls the form for `type` (`scalar` or the widest).
    static func map(
        _ labels: [Int64], type: LabelType, scalar: Bool, hasIgnore: Int32, ignore ignoreValue: Int64, classes: Int,
        out: lovasz_class_output, counts: inout [UInt32], ignored: inout Int32
    ) -> Int64 {
        let bad: Int64
        switch type {
        case .int64:
            let f = scalar ? lovasz_cpu_map_labels_i64_scalar : lovasz_cpu_map_labels_i64
            bad = f(labels, labels.count, hasIgnore, ignoreValue, Int64(classes), out, &counts, &ignored)
        case .int32:
            let narrow = labels.map { Int32($0) }
            let f = scalar ? lovasz_cpu_map_labels_i32_scalar : lovasz_cpu_map_labels_i32
            bad = f(narrow, narrow.count, hasIgnore, ignoreValue, Int64(classes), out, &counts, &ignored)
        case .uint8:
            let narrow = labels.map { UInt8($0) }
            let f = scalar ? lovasz_cpu_map_labels_u8_scalar : lovasz_cpu_map_labels_u8
            bad = f(narrow, narrow.count, hasIgnore, ignoreValue, Int64(classes), out, &counts, &ignored)
        }
        return bad
    }

    @Test(arguments: LabelType.allCases, [false, true])
    func labelPassEqualsTheDefinition(type: LabelType, scalar: Bool) {
        for output in Output.allCases { mapsAsTheDefinition(type: type, scalar: scalar, output: output) }
    }

    func mapsAsTheDefinition(type: LabelType, scalar: Bool, output: Output) {
        // Class counts on both sides of the vector forms' limits (8 classes counted in vectors,
        // 1024 in rows on the stack); ignore values inside
        // and outside the classes and outside the label type; bad labels at every position of
        // a vector, negative or too large; lengths with tails, and one past the 255 vectors of
        // 32 uint8 labels after which the byte form's counters are summed.
        let ignores: [Int64?] = [nil, 255, 0, type == .uint8 ? 300 : 70_000, -1]
        // (One byte per index up to 127 classes.)
        for classes in [1, 2, 3, 8, 9, 21, 127, 128, 150, 1500]
        where (type != .uint8 || classes <= 256) && (output != .narrow || classes <= ClassMap.narrowClasses) {
            for ignore in ignores {
                for length in [0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 8200] {
                    var random = SplitMix64(seed: UInt64(classes * 7919 + length * 31 + Int(ignore ?? 5)))
                    func representable(_ value: Int64) -> Bool {
                        switch type {
                        case .int64: return true
                        case .int32: return Int32(exactly: value) != nil
                        case .uint8: return UInt8(exactly: value) != nil
                        }
                    }
                    let top = UInt64(min(classes, type == .uint8 ? 256 : classes))
                    let valid = (0..<length).map { _ -> Int64 in
                        if let ignore, representable(ignore), random.next() % 5 == 0 { return ignore }
                        return Int64(random.next() % top)
                    }
                    var cases = [valid]
                    for position in Set(length > 0 ? [0, length / 2, length - 1] : []) {
                        let bad: Int64 = position % 2 == 0 && type != .uint8 ? -3 : Int64(classes) + 2
                        guard representable(bad), bad != ignore else { continue }
                        var withBad = valid
                        withBad[position] = bad
                        cases.append(withBad)
                    }
                    for labels in cases {
                        let expected = Self.naive(labels, ignore: ignore, classes: classes)
                        var got = Self.run(labels, type: type, scalar: scalar, ignore: ignore, classes: classes, output: output)
                        if expected.firstBad >= 0 { got.counts = [] }
                        var want = expected
                        if output == .none { want.out = [] }
                        if want.firstBad >= 0 {
                            want.counts = []
                            // Whether an ignored pixel before a bad one was noted is unspecified.
                            got.ignored = want.ignored
                        }
                        #expect(got == want, "\(type) \(classes) classes, ignore \(String(describing: ignore)), labels \(labels)")
                    }
                }
            }
        }
    }
}
