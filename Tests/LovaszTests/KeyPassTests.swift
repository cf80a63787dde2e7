import CLovaszCPU
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The key pass in C (`lovasz_cpu_create_keys`: its widest form where the processor has it,
/// sixteen pixels at a time with AVX-512F or eight with AVX2; the eight-pixel form; the scalar
/// form everywhere) against keys made one by one in Swift from their definition, with class
/// maps of one byte and of four bytes per pixel.
@Suite struct KeyPassTests {
    /// The forms of the key pass.
    enum Form: String, CaseIterable {
        case widest, eightAtMost, scalar
    }

    /// A run of pixels: labels with ignored ones (-1), scores with ties and signed zeros; the
    /// labels passed one byte each when `narrow`.
    struct Run {
        var labels: [Int32]
        var scores: [Float]
        var narrow = false
    }

    static func run(count: Int, ignoredPercent: Int, seed: UInt64, narrow: Bool = false) -> Run {
        var random = SplitMix64(seed: seed)
        var labels: [Int32] = [], scores: [Float] = []
        for _ in 0..<count {
            labels.append(Int(random.next() % 100) < ignoredPercent ? -1 : Int32(random.next() % 3))
            switch random.next() % 5 {
            case 0: scores.append(Float(random.next() % 4) * 0.25)  // ties
            case 1: scores.append(random.next() & 1 == 0 ? -0.0 : 0)
            default: scores.append(Float.random(in: -1...1, using: &random))
            }
        }
        return Run(labels: labels, scores: scores, narrow: narrow)
    }

    /// The keys of the naive definition: every valid pixel's key, in pixel order.
    static func naiveKeys(_ run: Run, foreground: Int32, hinge: Bool, firstRank: Int) -> [UInt64] {
        var keys: [UInt64] = []
        var rank = firstRank
        for (label, x) in zip(run.labels, run.scores) where label >= 0 {
            let isForeground = label == foreground
            let error: Float = isForeground ? 1 - x : (hinge ? 1 + x : 0 + x)
            keys.append(SortKey.pack(error: error, rank: rank, foreground: isForeground))
            rank += 1
        }
        return keys
    }

    /// The first index at which two key lists differ (the shorter one's end if one is a prefix).
    static func firstDifference(_ a: [UInt64], _ b: [UInt64]) -> Int? {
        if let index = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset { return index }
        return a.count == b.count ? nil : min(a.count, b.count)
    }

    /// Runs the C pass over `run` split into calls at `splits`, as the CPU path calls it image by image.
    /// With a `floor`, the floored pass (`lovasz_cpu_create_keys_floored`), whose counts of the
    /// keys below the floor come back in `below` and `belowForeground`, and with `writingBelow`
    /// those keys themselves (`below_keys`) in `belowKeys`, their AND and OR in `belowAnd` and
    /// `belowOr`.
    static func pass(
        _ run: Run, splits: [Int], foreground: Int32, hinge: Bool, firstRank: Int, cut: UInt64, form: Form,
        floor: UInt32? = nil, writingBelow: Bool = false
    ) -> (
        keys: [UInt64], and: UInt64, or: UInt64, below: Int, belowForeground: Int, keptForeground: Int, nonFinite: Bool,
        belowKeys: [UInt64], belowAnd: UInt64, belowOr: UInt64
    ) {
        var keys = [UInt64](repeating: 0xDEAD, count: run.labels.count)
        var belowKeys = [UInt64](repeating: 0xDEAD, count: run.labels.count)
        var state = lovasz_key_pass(
            kept: 0, rank: UInt64(firstRank), and_bits: .max, or_bits: 0, floor_word: floor ?? 0, below: 0, below_foreground: 0,
            below_keys: nil, below_and: .max, below_or: 0, kept_foreground: 0, nonfinite: 0)
        let bounds = [0] + splits + [run.labels.count]
        let create = switch (floor != nil, form) {
        case (false, .widest): lovasz_cpu_create_keys
        case (false, .eightAtMost): lovasz_cpu_create_keys_avx2_only
        case (false, .scalar): lovasz_cpu_create_keys_scalar
        case (true, .widest): lovasz_cpu_create_keys_floored
        case (true, .eightAtMost): lovasz_cpu_create_keys_floored_avx2_only
        case (true, .scalar): lovasz_cpu_create_keys_floored_scalar
        }
        withClassRun(run.labels, narrow: run.narrow) { labels in
            run.scores.withUnsafeBufferPointer { scores in
                keys.withUnsafeMutableBufferPointer { keys in
                    belowKeys.withUnsafeMutableBufferPointer { belowKeys in
                        if writingBelow { state.below_keys = belowKeys.baseAddress! }
                        for (start, end) in zip(bounds, bounds.dropFirst()) {
                            create(
                                &state, scores.baseAddress! + start, lovasz_classes_advanced(labels, start), end - start,
                                foreground, hinge ? 1 : 0, cut, keys.baseAddress!)
                        }
                    }
                }
            }
        }
        return (
            Array(keys[0..<Int(state.kept)]), state.and_bits, state.or_bits, Int(state.below), Int(state.below_foreground),
            Int(state.kept_foreground), state.nonfinite != 0,
            writingBelow ? Array(belowKeys[0..<Int(state.below)]) : [], state.below_and, state.below_or)
    }

    @Test(arguments: Form.allCases, [0, 3, 40])
    func keptKeysEqualTheNaiveOnes(form: Form, ignoredPercent: Int) {
        for narrow in [false, true] { for count in [0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 63, 64, 65, 1000] {
            for hinge in [false, true] {
                let seed = UInt64(count * 31 + ignoredPercent * 7) + (hinge ? 1 : 0)
                let run = Self.run(count: count, ignoredPercent: ignoredPercent, seed: seed, narrow: narrow)
                let firstRank = count % 3 == 0 ? 0 : 12345
                let all = Self.naiveKeys(run, foreground: 1, hinge: hinge, firstRank: firstRank)
                // Cuts that keep nothing, everything, and a part; cuts equal to a key, so that
                // keys with the cut's error word are kept or not by their rank.
                var cuts: [UInt64] = [0, .max]
                if !all.isEmpty {
                    let sorted = all.sorted()
                    cuts += [sorted[sorted.count / 3], sorted[sorted.count / 2], sorted[0], sorted[sorted.count - 1]]
                }
                for cut in cuts {
                    let expected = all.filter { $0 <= cut }
                    let expectedAnd = expected.reduce(UInt64.max, &)
                    let expectedOr = expected.reduce(0, |)
                    for splits in [[], [count / 2], [1, count / 3 + 1, count - 1]] where splits.allSatisfy({ (0...count).contains($0) }) {
                        let splitsSorted = splits.sorted()
                        let made = Self.pass(
                            run, splits: splitsSorted, foreground: 1, hinge: hinge, firstRank: firstRank, cut: cut, form: form)
                        #expect(Self.firstDifference(made.keys, expected) == nil, "\(count) pixels, hinge \(hinge), cut \(cut), splits \(splitsSorted)")
                        #expect(made.and == expectedAnd && made.or == expectedOr, "\(count) pixels, cut \(cut)")
                        #expect(made.keptForeground == expected.filter { $0 & 1 == 1 }.count, "\(count) pixels, cut \(cut)")
                    }
                }
            }
        } }
    }

    /// The floored pass (the parts of a split segment): keys whose error word is below the floor
    /// are counted, with their foreground, and not kept, and when asked for also written to a
    /// second buffer (the two parts' shared pass); every form against the definition.
    @Test(arguments: Form.allCases, [0, 3, 40])
    func flooredPassKeepsTheWordsFromTheFloor(form: Form, ignoredPercent: Int) {
        for narrow in [false, true] { for count in [0, 1, 7, 8, 9, 17, 65, 1000] {
            for hinge in [false, true] {
                let run = Self.run(
                    count: count, ignoredPercent: ignoredPercent, seed: UInt64(count * 13 + ignoredPercent) + (hinge ? 5 : 0),
                    narrow: narrow)
                let all = Self.naiveKeys(run, foreground: 1, hinge: hinge, firstRank: 7)
                let sorted = all.sorted()
                var cuts: [UInt64] = [.max]
                if !sorted.isEmpty { cuts += [sorted[sorted.count / 2], sorted[sorted.count - 1]] }
                for cut in cuts {
                    // Floors up to the cut's word: none, the smallest word, quantiles, the cut's.
                    var floors: [UInt32] = [0, UInt32(truncatingIfNeeded: cut >> 32)]
                    if !sorted.isEmpty { floors += [sorted[0], sorted[sorted.count / 4], sorted[sorted.count / 3]].map { UInt32($0 >> 32) } }
                    for floor in floors where UInt64(floor) <= cut >> 32 {
                        let expected = all.filter { $0 <= cut && UInt32($0 >> 32) >= floor }
                        let under = all.filter { UInt32($0 >> 32) < floor }
                        for splits in [[], [count / 2]] { for writingBelow in [false, true] {
                            let made = Self.pass(
                                run, splits: splits, foreground: 1, hinge: hinge, firstRank: 7, cut: cut, form: form,
                                floor: floor, writingBelow: writingBelow)
                            let label = "\(count) pixels, hinge \(hinge), cut \(cut), floor \(floor), splits \(splits), below written \(writingBelow)"
                            #expect(Self.firstDifference(made.keys, expected) == nil, "\(label)")
                            #expect(made.and == expected.reduce(UInt64.max, &) && made.or == expected.reduce(0, |), "\(label)")
                            #expect(made.below == under.count, "\(label)")
                            #expect(made.belowForeground == under.filter { $0 & 1 == 1 }.count, "\(label)")
                            #expect(made.keptForeground == expected.filter { $0 & 1 == 1 }.count, "\(label)")
                            if writingBelow {
                                #expect(Self.firstDifference(made.belowKeys, under) == nil, "\(label)")
                                #expect(made.belowAnd == under.reduce(UInt64.max, &) && made.belowOr == under.reduce(0, |), "\(label)")
                            }
                        } }
                    }
                }
            }
        } }
    }

    /// A NaN or infinite score anywhere in the runs (an ignored pixel's, a vector lane's, the
    /// scalar tail's) is seen by both forms, plain and floored, whatever the cut keeps; finite
    /// scores never are.
    @Test(arguments: Form.allCases, [false, true])
    func nonFiniteScoresAreSeen(form: Form, narrow: Bool) {
        for count in [1, 7, 8, 9, 16, 17, 25, 64, 65] {
            let base = Self.run(count: count, ignoredPercent: 30, seed: UInt64(count) + 900, narrow: narrow)
            for floor: UInt32? in [nil, 0x3F00_0000] {
                for cut: UInt64 in [0, .max] {
                    let clean = Self.pass(base, splits: [], foreground: 1, hinge: true, firstRank: 0, cut: cut, form: form, floor: floor)
                    #expect(!clean.nonFinite, "\(count) pixels")
                    for position in Set([0, count / 2, count - 1]) {
                        for bad: Float in [.nan, .infinity, -.infinity] {
                            for ignored in [false, true] {
                                var run = base
                                run.scores[position] = bad
                                run.labels[position] = ignored ? -1 : 1
                                let made = Self.pass(
                                    run, splits: count > 2 ? [count / 2] : [], foreground: 1, hinge: true, firstRank: 0, cut: cut,
                                    form: form, floor: floor)
                                #expect(made.nonFinite, "\(count) pixels, \(bad) at \(position), ignored \(ignored), cut \(cut)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Every kept key is written at its final slot and nothing is written past the slots of the
    /// pixels seen (the chunks of a segment are filled side by side by different threads), also
    /// when the last vector of the widest form has ignored pixels (208 = 13 · 16).
    @Test(arguments: [Form.widest, .eightAtMost], [0, 25])
    func writesStayInsideTheChunksSlots(form: Form, ignoredPercent: Int) {
        for narrow in [false, true] { for count in [203, 208] {
            let run = Self.run(count: count, ignoredPercent: ignoredPercent, seed: 99)
            let valid = run.labels.filter { $0 >= 0 }.count
            var keys = [UInt64](repeating: 0xDEAD, count: valid + 16)
            var state = lovasz_key_pass(
                kept: 0, rank: 0, and_bits: .max, or_bits: 0, floor_word: 0, below: 0, below_foreground: 0,
                below_keys: nil, below_and: .max, below_or: 0, kept_foreground: 0, nonfinite: 0)
            let create = form == .widest ? lovasz_cpu_create_keys : lovasz_cpu_create_keys_avx2_only
            withClassRun(run.labels, narrow: narrow) { labels in
                run.scores.withUnsafeBufferPointer { scores in
                    keys.withUnsafeMutableBufferPointer { keys in
                        create(&state, scores.baseAddress!, labels, count, 1, 0, .max, keys.baseAddress!)
                    }
                }
            }
            #expect(Int(state.kept) == valid, "\(count) pixels")
            #expect(keys[valid...].allSatisfy { $0 == 0xDEAD }, "\(count) pixels")
            // The floored pass with every key under the floor, written to a second buffer.
            var below = [UInt64](repeating: 0xDEAD, count: valid + 16)
            var floored = lovasz_key_pass(
                kept: 0, rank: 0, and_bits: .max, or_bits: 0, floor_word: .max, below: 0, below_foreground: 0,
                below_keys: nil, below_and: .max, below_or: 0, kept_foreground: 0, nonfinite: 0)
            let createFloored = form == .widest ? lovasz_cpu_create_keys_floored : lovasz_cpu_create_keys_floored_avx2_only
            withClassRun(run.labels, narrow: narrow) { labels in
                run.scores.withUnsafeBufferPointer { scores in
                    keys.withUnsafeMutableBufferPointer { keys in
                        below.withUnsafeMutableBufferPointer { below in
                            floored.below_keys = below.baseAddress!
                            createFloored(&floored, scores.baseAddress!, labels, count, 1, 0, .max, keys.baseAddress!)
                        }
                    }
                }
            }
            #expect(Int(floored.below) == valid && floored.kept == 0, "\(count) pixels, floored")
            #expect(below[valid...].allSatisfy { $0 == 0xDEAD }, "\(count) pixels, floored")
        } }
    }

    /// The foreground scan of the binary cuts, both forms, against a loop over the definition.
    @Test(arguments: [0, 3, 40], [false, true])
    func foregroundBestEqualsTheNaiveOne(ignoredPercent: Int, narrow: Bool) {
        for count in [0, 1, 7, 8, 9, 64, 65, 1000] { for tied in [false, true] {
            var run = Self.run(count: count, ignoredPercent: ignoredPercent, seed: UInt64(count + 500 + ignoredPercent))
            // With two score values the smallest error is tied: the last pixel must win.
            if tied { run.scores = run.scores.indices.map { Float($0 * 7 % 3 == 0 ? 1 : 2) * 0.25 } }
            var expected: UInt64 = 0
            for (i, (label, x)) in zip(run.labels, run.scores).enumerated() where label == 1 {
                expected = max(expected, UInt64(SortKey.descending(1 - x)) << 32 | UInt64(77 + i))
            }
            for scalar in [false, true] {
                let best = run.scores.withUnsafeBufferPointer { scores in
                    withClassRun(run.labels, narrow: narrow) { labels in
                        (scalar ? lovasz_cpu_foreground_best_scalar : lovasz_cpu_foreground_best)(
                            scores.baseAddress!, labels, count, 1, 77)
                    }
                }
                #expect(best == expected, "\(count) pixels, tied \(tied), scalar \(scalar), narrow \(narrow)")
            }
        } }
    }
}
