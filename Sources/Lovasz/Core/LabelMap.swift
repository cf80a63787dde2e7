/// Labels validated and mapped to class indices, with per-image class counts.
struct LabelMap: Sendable {
    /// One entry per pixel (`b·S + s`): the class index, or -1 for an ignored pixel.
    let classOf: [Int32]
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
        var classOf = try [Int32](fallibleRepeating: -1, count: labels.count)
        var counts = try [UInt32](fallibleRepeating: 0, count: shape.batch * labelClasses)
        // Images are mapped in parallel; each notes its first bad pixel and whether it has
        // ignored pixels, so the error names the first bad label in C order, as one pass would.
        var firstBadOfImage = try [Int](fallibleRepeating: -1, count: shape.batch)
        var ignoredInImage = try [Bool](fallibleRepeating: false, count: shape.batch)
        classOf.withUnsafeMutableBufferPointer { out in
            counts.withUnsafeMutableBufferPointer { counts in
                firstBadOfImage.withUnsafeMutableBufferPointer { firstBadOfImage in
                    ignoredInImage.withUnsafeMutableBufferPointer { ignoredInImage in
                        parallelForEach(count: shape.batch, workers: workers) { _, b in
                            let base = b * shape.spatial
                            // Counted on the task's stack and stored once: the counts of
                            // neighbouring images share cache lines, which threads would
                            // otherwise pass back and forth on every pixel.
                            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: labelClasses) { local in
                                local.initialize(repeating: 0)
                                var ignored = false
                                defer {
                                    (counts.baseAddress! + b * labelClasses).update(from: local.baseAddress!, count: labelClasses)
                                    if ignored { ignoredInImage[b] = true }
                                }
                                for s in 0..<shape.spatial {
                                    let value = labels[base + s]
                                    if let ignore, value == ignore {
                                        ignored = true
                                        continue
                                    }
                                    guard value >= 0, limit.map({ value < $0 }) ?? true else {
                                        firstBadOfImage[b] = base + s
                                        return
                                    }
                                    let c = Int(truncatingIfNeeded: value)
                                    out[base + s] = Int32(truncatingIfNeeded: c)
                                    local[c] &+= 1
                                }
                            }
                        }
                    }
                }
            }
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
}
