import CLovaszCPU
import LovaszTestSupport
import Testing
@testable import Lovasz

/// The walk of Algorithm 1 in C (`lovasz_cpu_walk`: eight keys at a time with AVX-512F and a
/// scatter, four with AVX2; its scalar form) against a walk written from ``lovaszStep``: the
/// same loss and gradient bits.
@Suite struct WalkTests {
    /// Which form of the C walk runs.
    enum Form: String, CaseIterable {
        /// `lovasz_cpu_walk` with `scatter` set: the widest form the processor has.
        case widest
        /// `lovasz_cpu_walk` without `scatter`: four keys at a time where the processor has AVX2.
        case fourAtMost
        case scalar

        var walk: @convention(c) (
            UnsafePointer<lovasz_walk_segment>?, UnsafePointer<UInt64>?, Int, Int, UnsafeMutablePointer<lovasz_walk_state>?
        ) -> Void {
            self == .scalar ? lovasz_cpu_walk_scalar : lovasz_cpu_walk
        }

        var scatter: Int32 { self == .widest ? 1 : 0 }
    }

    /// Sorted keys of `count` pixels of which about `foregroundPercent` are foreground, with
    /// ties, and (for the hinge) negative errors.
    static func sortedKeys(count: Int, foregroundPercent: Int, hinge: Bool, seed: UInt64) -> [UInt64] {
        var random = SplitMix64(seed: seed)
        let keys = (0..<count).map { rank -> UInt64 in
            let error: Float = random.next() % 4 == 0
                ? Float(random.next() % 3) * 0.25
                : Float.random(in: (hinge ? -1 : 0)...2, using: &random)
            return SortKey.pack(error: error, rank: rank, foreground: Int(random.next() % 100) < foregroundPercent)
        }
        return keys.sorted()
    }

    /// The definition: `lovaszStep` per key, `±weight · g` stored, the loss terms of keys
    /// `r ≡ l (mod 4)` summed in order into sum `l`, and the sums added as `(s0 + s1) + (s2 + s3)`.
    static func naiveWalk(
        _ keys: [UInt64], foreground: Int, weight: Double, hinge: Bool, pixelOf: (Int) -> Int, planeSize: Int
    ) -> (loss: Double, plane: [Float]) {
        var intersection = foreground, union = foreground
        var sums = [0.0, 0.0, 0.0, 0.0]
        var plane = [Float](repeating: 0, count: planeSize)
        for (r, key) in keys.enumerated() {
            let isForeground = SortKey.isForeground(key)
            let g = lovaszStep(isForeground: isForeground, intersection: &intersection, union: &union)
            let error = SortKey.error(of: key)
            let active = !hinge || error > 0
            sums[r % 4] += active ? Double(error) * g : 0
            plane[pixelOf(SortKey.rank(of: key))] = Float(active ? (isForeground ? -weight : weight) * g : 0)
        }
        return ((sums[0] + sums[1]) + (sums[2] + sums[3]), plane)
    }

    /// Where the walk stores the entry of rank `r`: pixel `firstPixel + r` of a plane, or, when
    /// mapped, pixel `7 + 3r` (a list of valid pixels with ignored ones between them).
    struct PixelLayout {
        let validPixels: [UInt32]?
        let firstPixel = 11
        let planeSize: Int

        init(count: Int, mapped: Bool) {
            validPixels = mapped ? (0..<count).map { UInt32(7 + 3 * $0) } : nil
            planeSize = mapped ? 7 + 3 * count : firstPixel + count
        }

        func pixel(_ rank: Int) -> Int { validPixels.map { Int($0[rank]) } ?? firstPixel + rank }
    }

    /// Sorted hinge keys (``sortedKeys(count:foregroundPercent:hinge:seed:)``), their foreground
    /// count, a pixel layout, the definition's walk and the pixels that have a key.
    static func hingeCase(count: Int, foregroundPercent: Int, seed: UInt64, mapped: Bool) -> (
        keys: [UInt64], foreground: Int, layout: PixelLayout, expected: (loss: Double, plane: [Float]), keyed: Set<Int>
    ) {
        let keys = sortedKeys(count: count, foregroundPercent: foregroundPercent, hinge: true, seed: seed)
        let foreground = keys.filter(SortKey.isForeground).count
        let layout = PixelLayout(count: count, mapped: mapped)
        let expected = naiveWalk(
            keys, foreground: foreground, weight: 0.75, hinge: true, pixelOf: layout.pixel, planeSize: layout.planeSize)
        return (keys, foreground, layout, expected, Set((0..<count).map(layout.pixel)))
    }

    /// The walk in `form` over `keys` cut into parts at `cuts`, storing the gradient entries of
    /// pixels in `stored` into a plane of `untouched` values.
    static func walkInParts(
        _ keys: [UInt64], cuts: [Int], foreground: Int, form: Form, hinge: Bool, layout: PixelLayout,
        storing stored: Range<Int>? = nil, untouched: Float = 0
    ) -> (loss: Double, plane: [Float], state: lovasz_walk_state) {
        let validPixels = layout.validPixels
        let stored = stored ?? 0..<Int.max
        var plane = [Float](repeating: untouched, count: layout.planeSize)
        var state = lovasz_walk_state(
            intersection: Int64(foreground), union_count: Int64(foreground), sums: (0, 0, 0, 0))
        let bounds = [0] + cuts + [keys.count]
        keys.withUnsafeBufferPointer { keys in
            (validPixels ?? []).withUnsafeBufferPointer { valid in
                plane.withUnsafeMutableBufferPointer { plane in
                    var segment = lovasz_walk_segment(
                        plane: plane.baseAddress, valid_pixels: validPixels == nil ? nil : valid.baseAddress,
                        first_pixel: UInt64(layout.firstPixel), weight: 0.75, hinge: hinge ? 1 : 0, scatter: form.scatter,
                        store_begin: UInt64(stored.lowerBound), store_end: UInt64(stored.upperBound))
                    let walk = form.walk
                    for (start, end) in zip(bounds, bounds.dropFirst()) {
                        walk(&segment, keys.baseAddress! + start, end - start, start, &state)
                    }
                }
            }
        }
        return (lovasz_walk_total(&state), plane, state)
    }

    @Test(arguments: Form.allCases, [false, true])
    func walkEqualsTheDefinition(form: Form, hinge: Bool) {
        for (count, percent) in [(1, 100), (3, 50), (4, 25), (5, 60), (37, 10), (1000, 3), (1001, 50)] {
            let keys = Self.sortedKeys(count: count, foregroundPercent: percent, hinge: hinge, seed: UInt64(count * 3 + percent))
            let foreground = keys.filter(SortKey.isForeground).count
            guard foreground > 0 else { continue }
            // Ranks map through a list of valid pixels (ignored pixels between them), or not.
            for mapped in [false, true] {
                let layout = PixelLayout(count: count, mapped: mapped)
                let expected = Self.naiveWalk(
                    keys, foreground: foreground, weight: 0.75, hinge: hinge, pixelOf: layout.pixel, planeSize: layout.planeSize)
                // In one part, and in parts cut anywhere (so the vector form starts off a
                // multiple of four, and parts shorter than a vector).
                var cuts = [Int](), next = 0
                var random = SplitMix64(seed: UInt64(count))
                while cuts.count < 12 {
                    next += 1 + Int(random.next() % 9)
                    if next >= count { break }
                    cuts.append(next)
                }
                for parts in [[], cuts] {
                    let walked = Self.walkInParts(
                        keys, cuts: parts, foreground: foreground, form: form, hinge: hinge, layout: layout)
                    let label = "\(count) keys, \(percent)% foreground, mapped \(mapped), cut at \(parts)"
                    #expect(walked.loss.bitPattern == expected.loss.bitPattern, "\(label): loss \(walked.loss) vs \(expected.loss)")
                    let differing = zip(walked.plane, expected.plane).filter { $0.bitPattern != $1.bitPattern }.count
                    #expect(differing == 0, "\(label): \(differing) gradient entries differ")
                    #expect(walked.state.intersection == 0 && walked.state.union_count == Int64(count), "\(label)")
                }
            }
        }
    }

    /// A walk with a store range (threads sharing a walk each store one part of the plane)
    /// stores the definition's entries of the range's keyed pixels, in every form, wherever the
    /// walk is cut, leaves every other pixel as it was, and gives the whole walk's loss.
    @Test(arguments: Form.allCases, [false, true])
    func walkStoresOnlyItsRange(form: Form, mapped: Bool) {
        let untouched = Float(bitPattern: 0x7FC0_1234)
        for (count, percent) in [(5, 60), (37, 10), (1001, 50)] {
            let (keys, foreground, layout, expected, keyed) = Self.hingeCase(
                count: count, foregroundPercent: percent, seed: UInt64(count + 5), mapped: mapped)
            let planeSize = layout.planeSize
            let cuts = Array(stride(from: 3, to: count, by: 13))
            for stored in [0..<0, 0..<planeSize / 3, planeSize / 3 ..< planeSize - 5, planeSize - 5 ..< planeSize] {
                let walked = Self.walkInParts(
                    keys, cuts: cuts, foreground: foreground, form: form, hinge: true,
                    layout: layout, storing: stored, untouched: untouched)
                let label = "\(count) keys, mapped \(mapped), storing \(stored)"
                #expect(walked.loss.bitPattern == expected.loss.bitPattern, "\(label): loss")
                let wrong = (0..<planeSize).filter { pixel in
                    walked.plane[pixel].bitPattern
                        != (stored.contains(pixel) && keyed.contains(pixel) ? expected.plane[pixel] : untouched).bitPattern
                }
                #expect(wrong.isEmpty, "\(label): pixels \(wrong.prefix(8)) wrong")
            }
        }
    }

    /// `lovasz_cpu_walk_terms` (with the scatter's form or without) stores each key's loss
    /// term, `error · g` or 0 where the hinge does not count it, and the gradient entries of
    /// the definition, from any starting position.
    @Test(arguments: [false, true], [false, true])
    func walkTermsEqualTheDefinition(hinge: Bool, scatter: Bool) {
        for (count, percent, position) in [(1, 100, 0), (9, 50, 3), (37, 10, 1), (1001, 40, 2), (1003, 60, 7)] {
            let keys = Self.sortedKeys(count: count, foregroundPercent: percent, hinge: hinge, seed: UInt64(count + percent))
            let foreground = keys.filter(SortKey.isForeground).count
            guard foreground > 0 else { continue }
            var intersection = foreground, union = foreground
            var expectedTerms: [UInt64] = []
            for key in keys {
                let g = lovaszStep(isForeground: SortKey.isForeground(key), intersection: &intersection, union: &union)
                let error = SortKey.error(of: key)
                expectedTerms.append((!hinge || error > 0 ? Double(error) * g : 0).bitPattern)
            }
            let firstPixel = 5
            let expected = Self.naiveWalk(
                keys, foreground: foreground, weight: 0.75, hinge: hinge, pixelOf: { firstPixel + $0 },
                planeSize: firstPixel + count)
            var terms = [UInt64](repeating: 0, count: count)
            var plane = [Float](repeating: 0, count: firstPixel + count)
            var state = lovasz_walk_state(
                intersection: Int64(foreground), union_count: Int64(foreground), sums: (0, 0, 0, 0))
            keys.withUnsafeBufferPointer { keys in
                plane.withUnsafeMutableBufferPointer { plane in
                    var segment = lovasz_walk_segment(
                        plane: plane.baseAddress, valid_pixels: nil, first_pixel: UInt64(firstPixel), weight: 0.75,
                        hinge: hinge ? 1 : 0, scatter: scatter ? 1 : 0, store_begin: 0, store_end: .max)
                    lovasz_cpu_walk_terms(&segment, keys.baseAddress!, count, position, &state, &terms)
                }
            }
            let label = "\(count) keys, \(percent)% foreground, from position \(position)"
            #expect(terms == expectedTerms, "\(label): \(zip(terms, expectedTerms).filter { $0 != $1 }.count) terms differ")
            #expect(zip(plane, expected.plane).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(label): gradient entries differ")
            #expect(state.intersection == 0 && state.union_count == Int64(count), "\(label)")
        }
    }
    /// `lovasz_cpu_walk_outbox` stores the definition's entries of its range's pixels, sends
    /// every other keyed pixel's entry to the outbox (value bits and pixel from the base, each
    /// once), gives the whole walk's loss wherever it is cut; `lovasz_cpu_drain_outbox` then
    /// stores the entries of its own range only.
    @Test(arguments: [false, true])
    func walkSendsTheOtherEntriesAway(mapped: Bool) {
        let untouched = Float(bitPattern: 0x7FC0_1234)
        for (count, percent) in [(5, 60), (37, 10), (1001, 50), (1003, 30)] {
            let (keys, foreground, layout, expected, keyed) = Self.hingeCase(
                count: count, foregroundPercent: percent, seed: UInt64(count + 9), mapped: mapped)
            let planeSize = layout.planeSize
            let bounds = [0] + Array(stride(from: 3, to: count, by: 13)) + [count]
            let base = 2
            for stored in [0..<0, 0..<planeSize / 3, planeSize / 3 ..< planeSize - 5, 0..<planeSize] {
                let label = "\(count) keys, mapped \(mapped), storing \(stored)"
                var plane = [Float](repeating: untouched, count: planeSize)
                var outbox = [UInt64](repeating: 0, count: count)
                var sent = 0
                var state = lovasz_walk_state(
                    intersection: Int64(foreground), union_count: Int64(foreground), sums: (0, 0, 0, 0))
                keys.withUnsafeBufferPointer { keys in
                    (layout.validPixels ?? []).withUnsafeBufferPointer { valid in
                        plane.withUnsafeMutableBufferPointer { plane in
                            outbox.withUnsafeMutableBufferPointer { outbox in
                                var segment = lovasz_walk_segment(
                                    plane: plane.baseAddress, valid_pixels: layout.validPixels == nil ? nil : valid.baseAddress,
                                    first_pixel: UInt64(layout.firstPixel), weight: 0.75, hinge: 1, scatter: 1,
                                    store_begin: UInt64(stored.lowerBound), store_end: UInt64(stored.upperBound))
                                for (start, end) in zip(bounds, bounds.dropFirst()) {
                                    sent += lovasz_cpu_walk_outbox(
                                        &segment, keys.baseAddress! + start, end - start, start, &state,
                                        outbox.baseAddress! + sent, UInt64(base))
                                }
                            }
                        }
                    }
                }
                #expect(lovasz_walk_total(&state).bitPattern == expected.loss.bitPattern, "\(label): loss")
                let wrong = (0..<planeSize).filter { pixel in
                    plane[pixel].bitPattern
                        != (stored.contains(pixel) && keyed.contains(pixel) ? expected.plane[pixel] : untouched).bitPattern
                }
                #expect(wrong.isEmpty, "\(label): pixels \(wrong.prefix(8)) wrong")
                let away = keyed.filter { !stored.contains($0) }
                #expect(sent == away.count, "\(label): \(sent) sent, \(away.count) outside")
                let entries = outbox.prefix(sent).map { (pixel: base + Int($0 & 0xFFFF_FFFF), bits: UInt32($0 >> 32)) }
                #expect(Set(entries.map(\.pixel)) == away && entries.count == away.count, "\(label): pixels sent")
                #expect(entries.allSatisfy { $0.bits == expected.plane[$0.pixel].bitPattern }, "\(label): values sent")
                // Drained into the lower half of the plane only, then into all of it.
                let half = planeSize / 2
                plane.withUnsafeMutableBufferPointer { plane in
                    lovasz_cpu_drain_outbox(plane.baseAddress!, UInt64(base), 0, UInt64(half), outbox, sent)
                }
                let wrongAfterHalf = (0..<planeSize).filter { pixel in
                    let shown = stored.contains(pixel) || pixel < half
                    return plane[pixel].bitPattern != (shown && keyed.contains(pixel) ? expected.plane[pixel] : untouched).bitPattern
                }
                #expect(wrongAfterHalf.isEmpty, "\(label): pixels \(wrongAfterHalf.prefix(8)) wrong after the half drain")
                plane.withUnsafeMutableBufferPointer { plane in
                    lovasz_cpu_drain_outbox(plane.baseAddress!, UInt64(base), 0, UInt64(planeSize), outbox, sent)
                }
                #expect(keyed.allSatisfy { plane[$0].bitPattern == expected.plane[$0].bitPattern }, "\(label): drained")
            }
        }
    }
}
