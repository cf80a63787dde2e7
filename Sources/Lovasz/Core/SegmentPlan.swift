/// The plan of a batch: its groups of pixels and the (group, class) segments to sort.
///
/// A group is a contiguous range of images (the whole batch, or one image when per image);
/// its valid pixels are the non-ignored ones in C order. A segment is one counted class of
/// one group with at least one valid pixel. The loss is `Σ weight · lovasz(segment)`.
///
/// The plan stores one foreground count per (group, label class) and nothing per segment:
/// segments are produced in plan order by ``segments`` (or a range of groups at a time by
/// ``segments(ofGroups:)``), so that a batch of millions of tiny images costs a few bytes
/// per segment, not a record each.
struct SegmentPlan: Sendable {
    struct Group: Sendable, Hashable {
        /// The first image of the group.
        let firstImage: Int
        /// The number of images in the group.
        let imageCount: Int
        /// Non-ignored pixels in the group.
        let validCount: Int
        /// Valid pixels of all earlier groups (the group's start in ``SegmentPlan/validPixels``).
        let validOffset: Int
    }

    struct Segment: Sendable, Hashable {
        /// Index into ``SegmentPlan/groups``.
        let group: Int
        /// The score channel the errors come from (the class for softmax, 0 for binary losses).
        let channel: Int
        /// The label value that is foreground for this segment.
        let foregroundLabel: Int32
        /// Foreground pixels in the group (`Σδ`).
        let foregroundCount: Int
        /// The segment's factor in the loss: class weight over the group's total weight,
        /// divided by the number of images when per image.
        let weight: Double
    }

    /// The number of groups.
    let groupCount: Int
    /// Images per group (1 per image, the batch otherwise).
    let imagesPerGroup: Int
    /// The number of segments.
    let segmentCount: Int
    /// The valid pixels of all segments together (`Σ` over segments of their group's size).
    let segmentElements: Int
    /// Distinct classes counted in at least one group.
    let classesCounted: Int
    /// Flat pixel indices (`b·S + s`) of the valid pixels of every group, in order; `nil`
    /// when no pixel is ignored (then rank `j` of a group is pixel `firstImage·S + j`), or
    /// when the list lives on the device (``hasIgnored`` is then true).
    let validPixels: [UInt32]?
    /// The largest number of valid pixels in one group.
    let largestGroup: Int

    /// `classCounts[g · labelClasses + c]`: pixels of group `g` labelled `c`.
    let classCounts: [UInt32]
    /// Valid pixels before each group (`groupCount + 1` entries); `nil` without ignored pixels.
    let validOffsets: [UInt32]?
    let labelClasses: Int
    let spatial: Int
    let selection: SegmentSelection
    /// Whether any pixel is ignored (then ranks map through a valid-pixel list, on the host
    /// in ``validPixels`` or on the device when the device planned the batch).
    let hasIgnored: Bool

    /// Plans the segments of a validated batch.
    ///
    /// - Throws: ``LovaszError/invalidOption(_:)`` for class lists, weights or score kinds the
    ///   loss cannot take; ``LovaszError/invalidShape(_:)`` for groups too large to index;
    ///   ``LovaszError/outOfMemory(bytes:)``.
    init(shape: ProblemShape, labels: LabelMap, options: LossOptions) throws(LovaszError) {
        try Self.validate(options: options, shape: shape)
        let imagesPerGroup = options.perImage ? 1 : shape.batch
        let labelClasses = labels.labelClasses
        // Per image the label counts are the group counts (shared, not copied).
        var classCounts = labels.counts
        if imagesPerGroup > 1 {
            var sums = [UInt64](repeating: 0, count: labelClasses)
            for b in 0..<shape.batch {
                for c in 0..<labelClasses { sums[c] += UInt64(labels.counts[b * labelClasses + c]) }
            }
            let valid = sums.reduce(0, +)
            guard valid <= UInt64(SortKey.maxGroupPixels) else { throw Self.groupTooLarge(Int(valid)) }
            classCounts = sums.map { UInt32($0) }
        }
        var pixels: [UInt32]?
        if labels.hasIgnored {
            let valid = classCounts.reduce(0) { $0 + Int($1) }
            var list = try [UInt32](fallibleCapacity: valid)
            labels.classOf.withIndices { classOf in
                for p in 0..<labels.classOf.count where classOf[p] >= 0 { list.append(UInt32(p)) }
            }
            pixels = list
        }
        try self.init(
            shape: shape, groupCounts: classCounts, labelClasses: labelClasses, hasIgnored: labels.hasIgnored,
            options: options, validPixels: pixels)
    }

    /// Plans the segments from the class counts of every group (the device's planning reads
    /// them back; the host path sums its per-image counts).
    ///
    /// - Parameters:
    ///   - groupCounts: `groupCounts[g * labelClasses + c]`, pixels of group `g` labelled `c`,
    ///     for the groups the options make (the batch, or each image when per image).
    ///   - hasIgnored: whether any pixel is ignored.
    ///   - validPixels: the host's list of valid pixels, or `nil` (none ignored, or the list
    ///     lives on the device).
    /// - Throws: as ``init(shape:labels:options:)``.
    init(
        shape: ProblemShape, groupCounts classCounts: [UInt32], labelClasses: Int, hasIgnored: Bool,
        options: LossOptions, validPixels: [UInt32]?
    ) throws(LovaszError) {
        try Self.validate(options: options, shape: shape)
        let imagesPerGroup = options.perImage ? 1 : shape.batch
        let groupCount = shape.batch / imagesPerGroup
        let selection = SegmentSelection(
            options: options, labelClasses: labelClasses, imageScale: options.perImage ? 1.0 / Double(shape.batch) : 1.0)

        var validOffsets: [UInt32]? = hasIgnored ? try [UInt32](fallibleCapacity: groupCount + 1) : nil
        var segmentCount = 0
        var segmentElements = 0
        var largest = 0
        var offset = 0
        var present = [Bool](repeating: false, count: labelClasses)
        classCounts.withUnsafeBufferPointer { counts in
            for g in 0..<groupCount {
                let row = UnsafeBufferPointer(rebasing: counts[g * labelClasses ..< (g + 1) * labelClasses])
                var valid = 0
                for c in 0..<labelClasses {
                    valid += Int(row[c])
                    if row[c] > 0 { present[c] = true }
                }
                validOffsets?.append(UInt32(truncatingIfNeeded: offset))
                offset += valid
                largest = max(largest, valid)
                let segments = selection.segmentCount(counts: row, valid: valid)
                segmentCount += segments
                segmentElements += segments * valid
            }
        }
        validOffsets?.append(UInt32(truncatingIfNeeded: offset))
        guard largest <= SortKey.maxGroupPixels else { throw Self.groupTooLarge(largest) }

        self.groupCount = groupCount
        self.imagesPerGroup = imagesPerGroup
        self.segmentCount = segmentCount
        self.segmentElements = segmentElements
        self.classesCounted = selection.classesCounted(present: present)
        self.largestGroup = largest
        self.classCounts = classCounts
        self.validOffsets = validOffsets
        self.labelClasses = labelClasses
        self.spatial = shape.spatial
        self.selection = selection
        self.hasIgnored = hasIgnored
        self.validPixels = validPixels
    }

    private static func groupTooLarge(_ valid: Int) -> LovaszError {
        .invalidShape("a group holds \(valid) pixels; at most \(SortKey.maxGroupPixels) are supported (use per image)")
    }

    /// Group `g`, for `g` in `0..<groupCount`.
    func group(_ g: Int) -> Group {
        let first = g * imagesPerGroup
        let offset: Int
        let valid: Int
        if let validOffsets {
            offset = Int(validOffsets[g])
            valid = Int(validOffsets[g + 1]) - offset
        } else {
            offset = first * spatial
            valid = imagesPerGroup * spatial
        }
        return Group(firstImage: first, imageCount: imagesPerGroup, validCount: valid, validOffset: offset)
    }

    /// Every segment, in plan order (group by group, classes in selection order), computed
    /// as it is iterated; ``segmentCount`` of them.
    var segments: some Sequence<Segment> {
        (0..<groupCount).lazy.flatMap { g in segments(ofGroup: g) }
    }

    /// The segments of group `g`, in plan order.
    func segments(ofGroup g: Int) -> [Segment] {
        classCounts.withUnsafeBufferPointer { counts in
            let row = UnsafeBufferPointer(rebasing: counts[g * labelClasses ..< (g + 1) * labelClasses])
            var result: [Segment] = []
            selection.forEachSegment(counts: row, valid: group(g).validCount) { channel, label, foreground, weight in
                result.append(Segment(
                    group: g, channel: channel, foregroundLabel: label, foregroundCount: foreground, weight: weight))
            }
            return result
        }
    }

    /// The segments of the groups in `range`, in plan order, appended to `segments`.
    func appendSegments(ofGroups range: Range<Int>, to segments: inout [Segment]) {
        classCounts.withUnsafeBufferPointer { counts in
            for g in range {
                let row = UnsafeBufferPointer(rebasing: counts[g * labelClasses ..< (g + 1) * labelClasses])
                selection.forEachSegment(counts: row, valid: group(g).validCount) { channel, label, foreground, weight in
                    segments.append(Segment(
                        group: g, channel: channel, foregroundLabel: label, foregroundCount: foreground, weight: weight))
                }
            }
        }
    }
}

extension SegmentPlan {
    /// Checks the options against the loss and the shape.
    static func validate(options: LossOptions, shape: ProblemShape) throws(LovaszError) {
        if shape.pixelCount > Int(UInt32.max) {
            throw .invalidShape("\(shape.pixelCount) pixels; at most \(UInt32.max) are supported")
        }
        if options.loss.isBinary {
            if options.classes != .present {
                throw .invalidOption("--classes applies to the softmax loss only; the \(options.loss) loss always counts its foreground class")
            }
            if options.classWeights != nil {
                throw .invalidOption("class weights apply to the softmax loss only")
            }
        }
        if options.loss == .hinge && options.scoresAre == .probabilities {
            throw .invalidOption("the hinge loss takes logits, not probabilities")
        }
        if case .explicit(let list) = options.classes {
            if list.isEmpty { throw .invalidOption("the class list is empty") }
            if let bad = list.first(where: { $0 < 0 || $0 >= shape.channels }) {
                throw .invalidOption("class \(bad) is outside 0..<\(shape.channels)")
            }
            if Set(list).count != list.count { throw .invalidOption("the class list names a class twice") }
        }
        if let weights = options.classWeights {
            guard weights.count == shape.channels else {
                throw .invalidShape("\(weights.count) class weights for \(shape.channels) classes")
            }
            if let bad = weights.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw .invalidOption("class weight \(weights[bad]) of class \(bad) is negative or not finite")
            }
        }
    }
}
