import CLovaszCPU

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

    /// The walk over sorted positions `range`, after `foregroundBefore` foreground keys
    /// (`lovasz_cpu_walk`: `lovaszStep`'s operations, so its values; four keys' divisions at
    /// once with AVX2). The union is at least Σδ ≥ 1 here, so `lovaszStep`'s special case for a
    /// union of 0 cannot arise.
    ///
    /// - Returns: the chunk's part of the loss and its number of foreground keys.
    private func walk(
        sorted: UnsafeMutablePointer<UInt64>, range: Range<Int>, foregroundBefore: Int
    ) -> (loss: Double, foreground: Int) {
        var intersection = Int64(segment.foregroundCount - foregroundBefore)
        var union = Int64(segment.foregroundCount + range.lowerBound - foregroundBefore)
        var description = lovasz_walk_segment(
            plane: plane, valid_pixels: validPixels.map { $0.baseAddress! + group.validOffset },
            first_pixel: UInt64(group.firstImage * spatial), weight: segment.weight, hinge: hinge ? 1 : 0)
        let loss = lovasz_cpu_walk(&description, sorted + range.lowerBound, range.count, &intersection, &union)
        return (loss, segment.foregroundCount - foregroundBefore - Int(intersection))
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
