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
        for segment in plan.segments {
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
