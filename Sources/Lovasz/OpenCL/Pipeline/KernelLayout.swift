/// The data layouts the host and the kernels share, defined here once and handed to the
/// kernels as `-D` build options (see `Kernels/lovasz_common.cl`).
enum KernelLayout {
    /// The fields of one segment in the segment table, one `uint` each, in this order.
    enum SegmentField: Int, CaseIterable {
        /// `SEG_COUNT`: the valid pixels of the segment's group (n).
        case count
        /// `SEG_CHANNEL`: the score channel the errors come from.
        case channel
        /// `SEG_FOREGROUND`: the label value that is foreground.
        case foreground
        /// `SEG_FG_COUNT`: the foreground pixels of the group.
        case foregroundCount
        /// `SEG_FIRST_PIXEL`: the flat index b·S+s of the group's first pixel.
        case firstPixel
        /// `SEG_VALID_OFFSET`: the start of the group in the valid-pixel list.
        case validOffset
        /// `SEG_HAS_LIST`: 1 when ranks map through the valid-pixel list, else 0.
        case hasList

        /// The kernels' name of the field's index.
        var macro: String {
            switch self {
            case .count: "SEG_COUNT"
            case .channel: "SEG_CHANNEL"
            case .foreground: "SEG_FOREGROUND"
            case .foregroundCount: "SEG_FG_COUNT"
            case .firstPixel: "SEG_FIRST_PIXEL"
            case .validOffset: "SEG_VALID_OFFSET"
            case .hasList: "SEG_HAS_LIST"
            }
        }
    }

    /// `uint`s per segment in the segment table (`SEGMENT_FIELDS`).
    static let segmentFields = SegmentField.allCases.count

    /// Loss terms each work-item of `reduce_term_blocks` sums (`REDUCE_ITEMS`): a block of
    /// `reduceItems · localSize` terms per work-group.
    static let reduceItems = 32

    /// Bins of the local class histogram of one planning work-group (`PLAN_BINS`): groups with
    /// more label classes are planned one work-item per part instead.
    static let planBins = 2048

    /// Pixels each work-item of a planning work-group visits (its part is
    /// `planItems · localSize` pixels).
    static let planItems = 16

    /// The most pixels of a segment whose cut and kept keys one work-item finds alone
    /// (`SMALL_SEGMENT`); larger segments take a work-group per block of ranks.
    static let smallSegment = 64

    /// The key that sorts after every real key (`SENTINEL_KEY`): it fills the sort's segments
    /// past their kept keys. A real key's high word comes from a finite error, never all ones.
    static let sentinelKey = UInt64.max

    /// The `-D` options that define the layout for the kernels.
    static var buildOptions: String {
        var options = [
            "-DSENTINEL_KEY=0x\(String(sentinelKey, radix: 16))UL",
            "-DLAST_POSITIVE_ERROR=0x\(String(SortKey.lastPositiveError, radix: 16))UL",
            "-DSEGMENT_FIELDS=\(segmentFields)", "-DPLAN_BINS=\(planBins)", "-DREDUCE_ITEMS=\(reduceItems)",
            "-DSMALL_SEGMENT=\(smallSegment)",
        ]
        options += SegmentField.allCases.map { "-D\($0.macro)=\($0.rawValue)" }
        return options.joined(separator: " ")
    }
}
