import CLovaszCPU

/// Labels validated and mapped to class indices, with per-image class counts.
struct LabelMap: Sendable {
    /// One entry per pixel (`b·S + s`): the class index, or -1 for an ignored pixel.
    let classOf: ClassMap
    /// `counts[b * labelClasses + c]`: pixels of image `b` labelled `c` (at most
    /// `UInt32.max` pixels are supported).
    let counts: [UInt32]
    /// The number of label values (`C` for softmax, 2 for the binary losses).
    let labelClasses: Int
    /// Whether any pixel is ignored.
    let hasIgnored: Bool

    /// Validates `labels` (one per pixel of `shape`) and maps them, images on up to
    /// `workers` threads (at least 1; the result does not depend on it).
    ///
    /// - Throws: ``LovaszError/invalidShape(_:)`` when the count is wrong or above
    ///   `UInt32.max`, ``LovaszError/labelOutOfRange(position:label:classes:)`` for the first
    ///   label (in C order) outside `0..<labelClasses` that is not `ignoreIndex`,
    ///   ``LovaszError/outOfMemory(bytes:)``.
    init<Label: FixedWidthInteger>(
        labels: UnsafeBufferPointer<Label>,
        shape: ProblemShape,
        ignoreIndex: Int?,
        workers: Int = 1
    ) throws(LovaszError) {
        // Callers in other modules reach here unspecialized; dispatch the common label types
        // to specialized copies of the per-pixel loop.
        switch labels {
        case let l as UnsafeBufferPointer<UInt8>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<Int32>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<Int64>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<Int>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<UInt16>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<Int16>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<Int8>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<UInt32>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        case let l as UnsafeBufferPointer<UInt64>: try self.init(mapping: l, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        default: try self.init(mapping: labels, shape: shape, ignoreIndex: ignoreIndex, workers: workers)
        }
    }

    private init<Label: FixedWidthInteger>(
        mapping labels: UnsafeBufferPointer<Label>,
        shape: ProblemShape,
        ignoreIndex: Int?,
        workers: Int
    ) throws(LovaszError) {
        guard labels.count == shape.pixelCount else {
            throw .invalidShape(
                "\(labels.count) labels for \(shape.pixelCount) pixels (labels must be \(shape.labelShape.bracketed))")
        }
        if shape.pixelCount > Int(UInt32.max) {
            throw .invalidShape("\(shape.pixelCount) pixels; at most \(UInt32.max) are supported")
        }
        let labelClasses = shape.isSoftmax ? shape.channels : 2
        let ignore: Label? = ignoreIndex.flatMap { Label(exactly: $0) }
        let limit: Label? = Label(exactly: labelClasses)
        var counts = try [UInt32](fallibleRepeating: 0, count: shape.batch * labelClasses)
        // Images are mapped in parallel; each notes its first bad pixel and whether it has
        // ignored pixels, so the error names the first bad label in C order, as one pass would.
        var firstBadOfImage = try [Int](fallibleRepeating: -1, count: shape.batch)
        // Rows of counters per image (a power of 2; one when there are many classes).
        let lanes = labelClasses <= 1024 ? 4 : 1
        var ignoredInImage = try [Bool](fallibleRepeating: false, count: shape.batch)
        // Every entry is written (-1 for an ignored pixel), or the call throws (unless the labels
        // are their own map, below: then nothing is written). Images in
        // contiguous shares per thread (``parallelForEachInShares``), as a shared segment's key
        // pass splits its pixels: each thread then reads back the entries it wrote.
        func fill(_ out: lovasz_class_output) {
            counts.withUnsafeMutableBufferPointer { counts in
                firstBadOfImage.withUnsafeMutableBufferPointer { firstBadOfImage in
                    ignoredInImage.withUnsafeMutableBufferPointer { ignoredInImage in
                        parallelForEachInShares(count: shape.batch, workers: workers) { b in
                            let base = b * shape.spatial
                            if let mapped = Self.mapInC(
                                labels.baseAddress! + base, count: shape.spatial, ignoreIndex: ignoreIndex,
                                classes: labelClasses, out: Self.advanced(out, by: base),
                                counts: counts.baseAddress! + b * labelClasses)
                            {
                                if let bad = mapped.firstBad { firstBadOfImage[b] = base + bad }
                                if mapped.ignored { ignoredInImage[b] = true }
                                return
                            }
                            // Counted on the task's stack and stored once: the counts of
                            // neighbouring images share cache lines, which threads would
                            // otherwise pass back and forth on every pixel. Consecutive pixels
                            // count into `lanes` separate rows (pixel s into row s % lanes):
                            // runs of one class would otherwise make every increment wait for
                            // the one before it.
                            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: lanes * labelClasses) { local in
                                local.initialize(repeating: 0)
                                var ignored = false
                                defer {
                                    let imageCounts = counts.baseAddress! + b * labelClasses
                                    for c in 0..<labelClasses {
                                        var total: UInt32 = 0
                                        for lane in 0..<lanes { total &+= local[lane * labelClasses + c] }
                                        imageCounts[c] = total
                                    }
                                    if ignored { ignoredInImage[b] = true }
                                }
                                // Plain locals, so that the loop reloads nothing.
                                let source = labels.baseAddress! + base, target = Self.advanced(out, by: base)
                                let rows = local.baseAddress!
                                let hasIgnore = ignore != nil, ignoreValue = ignore ?? 0
                                let hasLimit = limit != nil, limitValue = limit ?? 0
                                for s in 0..<shape.spatial {
                                    let value = source[s]
                                    if hasIgnore && value == ignoreValue {
                                        ignored = true
                                        storeClass(target, s, -1)
                                        continue
                                    }
                                    guard value >= 0, !hasLimit || value < limitValue else {
                                        firstBadOfImage[b] = base + s
                                        return
                                    }
                                    let c = Int(truncatingIfNeeded: value)
                                    storeClass(target, s, Int32(truncatingIfNeeded: c))
                                    rows[(s & (lanes - 1)) &* labelClasses &+ c] &+= 1
                                }
                            }
                        }
                    }
                }
            }
        }
        // Labels that are their own one-byte map are only checked and counted: the map borrows
        // them, as the call borrows the scores.
        let classOf: ClassMap
        if Self.isOwnClassMap(Label.self, labelClasses: labelClasses, ignoreIndex: ignoreIndex) {
            classOf = ClassMap(
                borrowing: UnsafeRawPointer(labels.baseAddress!).assumingMemoryBound(to: UInt8.self), count: labels.count
            ) { fill(lovasz_class_output(narrow: nil, wide: nil)) }
        } else {
            classOf = try ClassMap(count: labels.count, labelClasses: labelClasses, fill: fill)
        }
        let firstBad = firstBadOfImage.first { $0 >= 0 }
        let hasIgnored = ignoredInImage.contains(true)
        if let firstBad {
            throw .labelOutOfRange(
                position: shape.labelPosition(firstBad), label: String(labels[firstBad]), classes: labelClasses)
        }
        self.classOf = classOf
        self.counts = counts
        self.labelClasses = labelClasses
        self.hasIgnored = hasIgnored
    }

    /// Whether labels of type `Label` are their own one-byte class map: uint8 labels, each value
    /// the pass accepts reading as its class index as an `Int8` (a class below
    /// ``ClassMap/narrowClasses``; the ignore value 255 as -1, or an ignore value no uint8 equals).
    static func isOwnClassMap<Label: FixedWidthInteger>(_: Label.Type, labelClasses: Int, ignoreIndex: Int?) -> Bool {
        guard Label.self == UInt8.self, labelClasses <= ClassMap.narrowClasses else { return false }
        guard let ignoreIndex else { return true }
        return ignoreIndex == 255 || !(0...255).contains(ignoreIndex)
    }

    /// The class map's entries from `offset` on.
    private static func advanced(_ out: lovasz_class_output, by offset: Int) -> lovasz_class_output {
        lovasz_class_output(narrow: out.narrow.map { $0 + offset }, wide: out.wide.map { $0 + offset })
    }

    /// The label pass of one image in C (`lovasz_cpu_map_labels_*`: eight labels at a time
    /// with AVX2) for the common label types (int64, int32, uint8), or nil for the others.
    /// `counts` must be zero.
    @inline(__always)
    private static func mapInC<Label: FixedWidthInteger>(
        _ labels: UnsafePointer<Label>, count: Int, ignoreIndex: Int?, classes: Int,
        out: lovasz_class_output, counts: UnsafeMutablePointer<UInt32>
    ) -> (firstBad: Int?, ignored: Bool)? {
        let raw = UnsafeRawPointer(labels)
        let hasIgnore: Int32 = ignoreIndex == nil ? 0 : 1
        let ignore = Int64(ignoreIndex ?? 0)
        var ignored: Int32 = 0
        let bad: Int64
        if Label.self == Int64.self || (Label.self == Int.self && Int.bitWidth == 64) {
            bad = lovasz_cpu_map_labels_i64(
                raw.assumingMemoryBound(to: Int64.self), count, hasIgnore, ignore, Int64(classes), out, counts, &ignored)
        } else if Label.self == Int32.self {
            bad = lovasz_cpu_map_labels_i32(
                raw.assumingMemoryBound(to: Int32.self), count, hasIgnore, ignore, Int64(classes), out, counts, &ignored)
        } else if Label.self == UInt8.self {
            bad = lovasz_cpu_map_labels_u8(
                raw.assumingMemoryBound(to: UInt8.self), count, hasIgnore, ignore, Int64(classes), out, counts, &ignored)
        } else {
            return nil
        }
        return (bad < 0 ? nil : Int(bad), ignored != 0)
    }
}
