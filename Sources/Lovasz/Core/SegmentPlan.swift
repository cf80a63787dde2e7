/// The plan of a batch: its groups of pixels and the (group, class) segments to sort.
///
/// A group is a contiguous range of images (the whole batch, or one image when per image);
/// its valid pixels are the non-ignored ones in C order. A segment is one counted class of
/// one group with at least one valid pixel. The loss is `Σ weight · lovasz(segment)`.
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

    let groups: [Group]
    let segments: [Segment]
    /// Distinct classes counted in at least one group.
    let classesCounted: Int
    /// Flat pixel indices (`b·S + s`) of the valid pixels of every group, in order; `nil`
    /// when no pixel is ignored (then rank `j` of a group is pixel `firstImage·S + j`).
    let validPixels: [UInt32]?
    /// The largest number of valid pixels in one group.
    let largestGroup: Int

    /// Whether any pixel is ignored (then ranks map through a valid-pixel list).
    let hasIgnored: Bool

    /// Plans the segments of a validated batch.
    ///
    /// - Throws: ``LovaszError/invalidOption(_:)`` for class lists, weights or score kinds the
    ///   loss cannot take; ``LovaszError/invalidShape(_:)`` for groups too large to index.
    init(shape: ProblemShape, labels: LabelMap, options: LossOptions) throws(LovaszError) {
        let labelClasses = labels.labelClasses
        let groupImages = options.perImage ? 1 : shape.batch
        var groupCounts = [Int](repeating: 0, count: shape.batch / groupImages * labelClasses)
        for b in 0..<shape.batch {
            let row = b / groupImages * labelClasses
            for c in 0..<labelClasses { groupCounts[row + c] += labels.counts[b * labelClasses + c] }
        }
        var pixels: [UInt32]?
        if labels.hasIgnored {
            var list = [UInt32]()
            list.reserveCapacity(groupCounts.reduce(0, +))
            for (p, c) in labels.classOf.enumerated() where c >= 0 { list.append(UInt32(p)) }
            pixels = list
        }
        try self.init(
            shape: shape, groupCounts: groupCounts, labelClasses: labelClasses, hasIgnored: labels.hasIgnored,
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
        shape: ProblemShape, groupCounts: [Int], labelClasses: Int, hasIgnored: Bool, options: LossOptions,
        validPixels: [UInt32]?
    ) throws(LovaszError) {
        try Self.validate(options: options, shape: shape)
        let groupImages = options.perImage ? 1 : shape.batch
        let groupCount = shape.batch / groupImages
        let imageScale = options.perImage ? 1.0 / Double(shape.batch) : 1.0

        var groups: [Group] = []
        var segments: [Segment] = []
        var counted = Set<Int>()
        var offset = 0
        var largest = 0
        groups.reserveCapacity(groupCount)
        for g in 0..<groupCount {
            let first = g * groupImages
            let classCounts = groupCounts[g * labelClasses ..< (g + 1) * labelClasses]
            let valid = classCounts.reduce(0, +)
            guard valid <= SortKey.maxGroupPixels else {
                throw .invalidShape("a group holds \(valid) pixels; at most \(SortKey.maxGroupPixels) are supported (use per image)")
            }
            groups.append(Group(firstImage: first, imageCount: groupImages, validCount: valid, validOffset: offset))
            offset += valid
            largest = max(largest, valid)

            if options.loss.isBinary {
                counted.insert(1)
                if valid > 0 {
                    segments.append(Segment(
                        group: g, channel: 0, foregroundLabel: 1,
                        foregroundCount: classCounts[classCounts.startIndex + 1], weight: imageScale))
                }
                continue
            }
            let chosen: [Int]
            switch options.classes {
            case .present: chosen = (0..<labelClasses).filter { classCounts[classCounts.startIndex + $0] > 0 }
            case .all: chosen = Array(0..<labelClasses)
            case .explicit(let list): chosen = list
            }
            counted.formUnion(chosen)
            let weights = chosen.map { Double(options.classWeights?[$0] ?? 1) }
            let total = weights.reduce(0, +)
            guard valid > 0, total > 0 else { continue }
            for (c, w) in zip(chosen, weights) where w > 0 {
                segments.append(Segment(
                    group: g, channel: c, foregroundLabel: Int32(c),
                    foregroundCount: classCounts[classCounts.startIndex + c], weight: w / total * imageScale))
            }
        }
        self.groups = groups
        self.segments = segments
        self.classesCounted = counted.count
        self.largestGroup = largest
        self.hasIgnored = hasIgnored
        self.validPixels = validPixels
    }

    private static func validate(options: LossOptions, shape: ProblemShape) throws(LovaszError) {
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
