/// Which label classes of a group become segments, and their weights in the loss.
///
/// Binary losses: one segment (label 1 on channel 0) per group with a valid pixel. Softmax:
/// the present classes of the group, every class, or a fixed list, each with weight
/// `w(c) / Σ w · imageScale`, where the sum runs over the group's chosen classes; a class of
/// weight 0 gets no segment, and a group without valid pixels (or a zero total) none at all.
struct SegmentSelection: Sendable {
    enum Kind: Sendable {
        case binary
        case present
        /// Every class, or a list: the same classes for every group.
        case fixed([Int])
    }

    let kind: Kind
    /// The weight of each label class (1 without class weights).
    let weights: [Double]
    /// `Σ w` over the fixed classes, summed in their order (0 for the other kinds).
    let fixedTotal: Double
    /// `1 / B` per image, 1 per batch.
    let imageScale: Double

    init(options: LossOptions, labelClasses: Int, imageScale: Double) {
        if options.loss.isBinary {
            kind = .binary
        } else {
            switch options.classes {
            case .present: kind = .present
            case .all: kind = .fixed(Array(0..<labelClasses))
            case .explicit(let list): kind = .fixed(list)
            }
        }
        let weights = (0..<labelClasses).map { Double(options.classWeights?[$0] ?? 1) }
        self.weights = weights
        if case .fixed(let list) = kind {
            fixedTotal = list.map { weights[$0] }.reduce(0, +)
        } else {
            fixedTotal = 0
        }
        self.imageScale = imageScale
    }

    /// Calls `body(channel, foregroundLabel, foregroundCount, weight)` for each segment of a
    /// group with these class counts and `valid` valid pixels, in plan order.
    @inline(__always)
    func forEachSegment(
        counts: UnsafeBufferPointer<UInt32>, valid: Int,
        _ body: (_ channel: Int, _ label: Int32, _ foreground: Int, _ weight: Double) -> Void
    ) {
        switch kind {
        case .binary:
            if valid > 0 { body(0, 1, Int(counts[1]), imageScale) }
        case .present:
            var total = 0.0
            for c in counts.indices where counts[c] > 0 { total += weights[c] }
            guard valid > 0, total > 0 else { return }
            for c in counts.indices where counts[c] > 0 && weights[c] > 0 {
                body(c, Int32(c), Int(counts[c]), weights[c] / total * imageScale)
            }
        case .fixed(let list):
            guard valid > 0, fixedTotal > 0 else { return }
            for c in list where weights[c] > 0 {
                body(c, Int32(c), Int(counts[c]), weights[c] / fixedTotal * imageScale)
            }
        }
    }

    /// The number of segments of a group (as ``forEachSegment(counts:valid:_:)`` yields).
    func segmentCount(counts: UnsafeBufferPointer<UInt32>, valid: Int) -> Int {
        var count = 0
        forEachSegment(counts: counts, valid: valid) { _, _, _, _ in count += 1 }
        return count
    }

    /// The distinct classes counted in at least one group, given the classes present anywhere.
    func classesCounted(present: [Bool]) -> Int {
        switch kind {
        case .binary: return 1
        case .present: return present.filter { $0 }.count
        case .fixed(let list): return list.count
        }
    }
}
