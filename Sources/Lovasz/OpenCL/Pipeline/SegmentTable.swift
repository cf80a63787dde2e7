/// The segment table the kernels read: ``KernelLayout/segmentFields`` `uint`s per segment, in
/// the order of ``KernelLayout/SegmentField``.
struct SegmentTable {
    /// The fields of every segment, segment after segment.
    let entries: [UInt32]
    /// The weight of each segment, as float.
    let weights: [Float]
    /// The largest group's valid pixel count (at least 1).
    let largestGroup: Int

    init(plan: SegmentPlan, shape: ProblemShape) {
        let spatial = shape.spatial
        let hasList = plan.hasIgnored
        var entries = [UInt32]()
        entries.reserveCapacity(plan.segmentCount * KernelLayout.segmentFields)
        var weights = [Float]()
        weights.reserveCapacity(plan.segmentCount)
        var largest = 1
        for segment in plan.segments {
            let group = plan.group(segment.group)
            weights.append(Float(segment.weight))
            largest = max(largest, group.validCount)
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
        self.largestGroup = largest
    }
}
