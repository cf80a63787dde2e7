/// The segment table the kernels read: ``KernelLayout/segmentFields`` `uint`s per segment, in
/// the order of ``KernelLayout/SegmentField``.
struct SegmentTable {
    /// The fields of every segment, segment after segment.
    let entries: [UInt32]
    /// The weight of each segment, as float.
    let weights: [Float]
    /// The valid pixels of every segment's group.
    var validCounts: some Sequence<Int> {
        stride(from: KernelLayout.SegmentField.count.rawValue, to: entries.count, by: KernelLayout.segmentFields)
            .lazy.map { Int(entries[$0]) }
    }

    init(plan: SegmentPlan, shape: ProblemShape) {
        let spatial = shape.spatial
        let hasList = plan.hasIgnored
        var entries = [UInt32]()
        entries.reserveCapacity(plan.segmentCount * KernelLayout.segmentFields)
        var weights = [Float]()
        weights.reserveCapacity(plan.segmentCount)
        plan.forEachSegment { segment in
            let group = plan.group(segment.group)
            weights.append(Float(segment.weight))
            for field in KernelLayout.SegmentField.allCases {
                switch field {
                case .count: entries.append(UInt32(group.validCount))
                case .channel: entries.append(UInt32(segment.channel))
                case .foreground: entries.append(UInt32(bitPattern: segment.foregroundLabel))
                case .foregroundCount: entries.append(UInt32(segment.foregroundCount))
                case .firstPixel: entries.append(UInt32(group.firstImage * spatial))
                case .validOffset: entries.append(UInt32(group.validOffset))
                case .hasList: entries.append(hasList ? 1 : 0)
                }
            }
        }
        self.entries = entries
        self.weights = weights
    }
}

extension SegmentPlan {
    /// Calls `body` with every segment in plan order, made a few thousand groups at a time
    /// into one reused array (no allocation per group, for plans of millions of groups).
    func forEachSegment(_ body: (Segment) -> Void) {
        var batch = [Segment]()
        var first = 0
        while first < groupCount {
            let groups = first ..< min(first + 4096, groupCount)
            batch.removeAll(keepingCapacity: true)
            appendSegments(ofGroups: groups, to: &batch)
            for segment in batch { body(segment) }
            first = groups.upperBound
        }
    }
}
