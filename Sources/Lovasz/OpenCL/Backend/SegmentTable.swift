/// The segment table the kernels read (`SEGMENT_FIELDS` uints per segment, see
/// `Kernels/lovasz_common.cl`).
struct SegmentTable {
    static let fields = 8

    /// `fields` uints per segment.
    let entries: [UInt32]
    /// The weight of each segment, as float.
    let weights: [Float]
    /// The largest group's valid pixel count (at least 1).
    let largestGroup: Int

    init(plan: SegmentPlan, shape: ProblemShape) {
        let spatial = shape.spatial
        let hasList = plan.hasIgnored
        var entries = [UInt32]()
        entries.reserveCapacity(plan.segments.count * Self.fields)
        var largest = 1
        for segment in plan.segments {
            let group = plan.groups[segment.group]
            largest = max(largest, group.validCount)
            entries += [
                UInt32(group.validCount), UInt32(segment.channel), UInt32(bitPattern: segment.foregroundLabel),
                UInt32(segment.foregroundCount), UInt32(group.firstImage * spatial), UInt32(group.validOffset),
                hasList ? 1 : 0, 0,
            ]
        }
        self.entries = entries
        self.weights = plan.segments.map { Float($0.weight) }
        self.largestGroup = largest
    }
}
