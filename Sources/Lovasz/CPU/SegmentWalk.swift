extension SegmentWork {
    /// Algorithm 1 over the sorted keys with exact integer counts, in chunks of ``CPUSortTuning/walkChunk``
    /// keys; with several workers the foreground keys before each chunk are counted first.
    func walk(sorted: UnsafeMutablePointer<UInt64>, count: Int, workers: Int) -> Double {
        let size = tuning.walkChunk
        let chunks = (count + size - 1) / size
        func range(_ c: Int) -> Range<Int> { c * size ..< min(count, (c + 1) * size) }
        if workers == 1 || chunks < 2 {
            var loss = 0.0, foregroundBefore = 0
            for c in 0..<chunks {
                let part = walk(sorted: sorted, range: range(c), foregroundBefore: foregroundBefore)
                loss += part.loss
                foregroundBefore += part.foreground
            }
            return loss
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: chunks) { foreground in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { losses in
                parallelForEach(count: chunks, workers: workers) { _, c in
                    var n = 0
                    for r in range(c) { n &+= Int(truncatingIfNeeded: sorted[r] & 1) }
                    foreground[c] = n
                }
                var before = 0
                for c in 0..<chunks {
                    let n = foreground[c]
                    foreground[c] = before
                    before += n
                }
                parallelForEach(count: chunks, workers: workers) { _, c in
                    losses[c] = walk(sorted: sorted, range: range(c), foregroundBefore: foreground[c]).loss
                }
                var loss = 0.0
                for c in 0..<chunks { loss += losses[c] }
                return loss
            }
        }
    }

    /// The walk over sorted positions `range`, after `foregroundBefore` foreground keys.
    ///
    /// Four positions at a time: their counts follow from the foreground bits, and their four
    /// divisions (the step's only slow operation) run as one vector division — the same
    /// correctly rounded quotients as one at a time. The loss is still summed position by
    /// position, in order.
    ///
    /// - Returns: the chunk's part of the loss and its number of foreground keys.
    private func walk(
        sorted: UnsafeMutablePointer<UInt64>, range: Range<Int>, foregroundBefore: Int
    ) -> (loss: Double, foreground: Int) {
        var intersection = segment.foregroundCount - foregroundBefore
        var union = segment.foregroundCount + range.lowerBound - foregroundBefore
        var loss = 0.0
        let weight = segment.weight
        // `lovaszStep` with selects instead of branches (foreground and background pixels
        // alternate at random): the same operations, so the same values. The union is at
        // least Σδ ≥ 1 here, so its special case for a union of 0 cannot arise.
        @inline(__always) func finish(_ key: UInt64, _ g: Double) {
            let isForeground = SortKey.isForeground(key)
            let error = SortKey.error(of: key)
            let active = !hinge || error > 0
            loss += active ? Double(error) * g : 0
            if let plane {
                // ∂m/∂x is -1 for foreground, +1 for background (softmax, sigmoid and hinge alike).
                let derivative = active ? (isForeground ? -weight : weight) * g : 0
                plane[pixel(ofRank: SortKey.rank(of: key))] = Float(derivative)
            }
        }
        var r = range.lowerBound
        while r + 4 <= range.upperBound {
            let keys = (sorted[r], sorted[r + 1], sorted[r + 2], sorted[r + 3])
            let f0 = Int(truncatingIfNeeded: keys.0 & 1), f1 = Int(truncatingIfNeeded: keys.1 & 1)
            let f2 = Int(truncatingIfNeeded: keys.2 & 1), f3 = Int(truncatingIfNeeded: keys.3 & 1)
            // Counts before each of the four positions.
            let i0 = intersection, u0 = union
            let i1 = i0 - f0, u1 = u0 + (1 - f0)
            let i2 = i1 - f1, u2 = u1 + (1 - f1)
            let i3 = i2 - f2, u3 = u2 + (1 - f2)
            let unions = SIMD4<Double>(Double(u0), Double(u1), Double(u2), Double(u3))
            let next = SIMD4<Double>(Double(u0 + 1), Double(u1 + 1), Double(u2 + 1), Double(u3 + 1))
            let intersections = SIMD4<Double>(Double(i0), Double(i1), Double(i2), Double(i3))
            let foreground = SIMD4<Int64>(Int64(f0), Int64(f1), Int64(f2), Int64(f3)) .!= 0
            let numerator = SIMD4<Double>(repeating: 1).replacing(with: intersections, where: .!foreground)
            let denominator = (unions * next).replacing(with: unions, where: foreground)
            let g = numerator / denominator
            finish(keys.0, g[0])
            finish(keys.1, g[1])
            finish(keys.2, g[2])
            finish(keys.3, g[3])
            intersection = i3 - f3
            union = u3 + (1 - f3)
            r += 4
        }
        while r < range.upperBound {
            let key = sorted[r]
            let isForeground = SortKey.isForeground(key)
            let unionValue = Double(union)
            let numerator = isForeground ? 1.0 : Double(intersection)
            let denominator = isForeground ? unionValue : unionValue * Double(union + 1)
            finish(key, numerator / denominator)
            intersection -= isForeground ? 1 : 0
            union += isForeground ? 0 : 1
            r += 1
        }
        return (loss, segment.foregroundCount - foregroundBefore - intersection)
    }

    /// A segment with no foreground: only its largest error counts, with gradient 1.
    func runWithoutForeground() -> Double {
        var first = UInt64.max
        forEachKey { key in
            if key < first { first = key }
        }
        guard first != .max else { return 0 }
        let error = SortKey.error(of: first)
        guard !hinge || error > 0 else { return 0 }
        if let plane { plane[pixel(ofRank: SortKey.rank(of: first))] = Float(segment.weight) }
        return Double(error)
    }

    /// Calls `body(key)` for every valid pixel of the group in rank order.
    @inline(__always)
    private func forEachKey(_ body: (UInt64) -> Void) {
        var rank = 0
        let foreground = segment.foregroundLabel
        for b in group.firstImage ..< group.firstImage + group.imageCount {
            let labelBase = b * spatial
            let valueBase = (b * channels + segment.channel) * spatial
            for s in 0..<spatial {
                let label = classOf[labelBase + s]
                if label < 0 { continue }
                let isForeground = label == foreground
                let x = values[valueBase + s]
                let error: Float = hinge ? (isForeground ? 1 - x : 1 + x) : (isForeground ? 1 - x : x)
                body(SortKey.pack(error: error, rank: rank, foreground: isForeground))
                rank += 1
            }
        }
    }
}
