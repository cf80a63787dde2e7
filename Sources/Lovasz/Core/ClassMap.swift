import CLovaszCPU

/// Class indices, one per pixel (`b·S + s`), -1 for an ignored pixel: one byte each where every
/// class index fits (at most ``narrowClasses`` label classes), four bytes otherwise.
///
/// The one-byte form is a quarter of the bytes that the label pass stores and that every later
/// pass reads (the key pass reads the map once per class plane).
struct ClassMap: Sendable {
    /// The most label classes whose indices take one byte each.
    static let narrowClasses = Int(LOVASZ_CPU_NARROW_CLASSES)

    /// The entries (one or four bytes each), owned by the map and its copies, or borrowed.
    private let entries: ClassMapEntries
    /// The number of pixels.
    let count: Int
    /// Whether the indices take one byte each.
    let isNarrow: Bool

    /// A map of `count` pixels for `labelClasses` label classes (at least 1), every entry
    /// written by `fill` (which receives the entries to write, `count` of them).
    ///
    /// The entries are allocated directly (``FallibleMemory/allocate(_:count:)``): a failure
    /// throws, with no probe in between that an allocator could answer differently.
    ///
    /// - Throws: ``LovaszError/outOfMemory(bytes:)``.
    init(count: Int, labelClasses: Int, fill: (lovasz_class_output) -> Void) throws(LovaszError) {
        self.count = count
        isNarrow = labelClasses <= Self.narrowClasses
        entries = try ClassMapEntries(count: count, narrow: isNarrow)
        if count > 0 { fill(entries.output) }
    }

    /// A map whose entries are `bytes` themselves (`count` of them), borrowed: uint8 labels
    /// whose every valid value is its own one-byte class index (classes below 128, the ignore
    /// value 255 reading as -1). Valid only while `bytes` is, as a ``LossProblem``'s scores are
    /// (the length of one call); `check` validates and counts the labels, storing nothing.
    init(borrowing bytes: UnsafePointer<UInt8>, count: Int, check: () -> Void) {
        self.count = count
        isNarrow = true
        entries = ClassMapEntries(borrowing: UnsafeRawPointer(bytes).assumingMemoryBound(to: Int8.self))
        if count > 0 { check() }
    }

    /// The class index of `pixel` (-1: ignored).
    subscript(pixel: Int) -> Int32 {
        precondition(pixel >= 0 && pixel < count, "pixel out of range")
        return withIndices { $0[pixel] }
    }

    /// Calls `body` with the map's entries (valid only inside `body`).
    func withIndices<R, E: Error>(_ body: (ClassIndices) throws(E) -> R) throws(E) -> R {
        defer { withExtendedLifetime(entries) {} }
        let output = entries.output
        let pointers = lovasz_classes(
            narrow: output.narrow.map { UnsafePointer($0) }, wide: output.wide.map { UnsafePointer($0) })
        return try body(ClassIndices(pointers))
    }
}

/// The memory of a class map's entries, freed with the last map that holds it (unless borrowed).
// @unchecked Sendable: written once by ClassMap.init before the map is shared, only read after.
private final class ClassMapEntries: @unchecked Sendable {
    let output: lovasz_class_output
    /// Whether the entries were allocated here (and are freed with this object).
    private let owned: Bool

    /// Entries in memory someone else owns.
    init(borrowing entries: UnsafePointer<Int8>) {
        output = lovasz_class_output(narrow: UnsafeMutablePointer(mutating: entries), wide: nil)
        owned = false
    }

    init(count: Int, narrow: Bool) throws(LovaszError) {
        owned = true
        if narrow {
            let entries = try FallibleMemory.allocate(Int8.self, count: count)
            output = lovasz_class_output(narrow: entries.baseAddress, wide: nil)
        } else {
            let entries = try FallibleMemory.allocate(Int32.self, count: count)
            output = lovasz_class_output(narrow: nil, wide: entries.baseAddress)
        }
    }

    deinit {
        guard owned else { return }
        if let narrow = output.narrow { narrow.deallocate() }
        if let wide = output.wide { wide.deallocate() }
    }
}

/// Borrowed class indices of a run of pixels (see ``ClassMap``), as the C passes take them.
struct ClassIndices {
    /// The entries, for the C passes.
    let pointers: lovasz_classes

    init(_ pointers: lovasz_classes) {
        self.pointers = pointers
    }

    /// The class index of pixel `i` of the run (-1: ignored).
    @inline(__always)
    subscript(i: Int) -> Int32 {
        if let narrow = pointers.narrow { return Int32(narrow[i]) }
        return pointers.wide[i]
    }

    /// The entries from `offset` on.
    @inline(__always)
    func advanced(by offset: Int) -> ClassIndices {
        ClassIndices(lovasz_classes_advanced(pointers, offset))
    }
}

/// Stores class index `value` (-1 ..< ``ClassMap/narrowClasses`` in the one-byte form) at `i`.
@inline(__always)
func storeClass(_ out: lovasz_class_output, _ i: Int, _ value: Int32) {
    if let narrow = out.narrow {
        narrow[i] = Int8(truncatingIfNeeded: value)
    } else {
        out.wide[i] = value
    }
}
