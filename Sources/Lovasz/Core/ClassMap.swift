import CLovaszCPU

/// Class indices, one per pixel (`b·S + s`), -1 for an ignored pixel: one byte each where every
/// class index fits (at most ``narrowClasses`` label classes), four bytes otherwise.
///
/// The one-byte form is a quarter of the bytes that the label pass stores and that every later
/// pass reads (the key pass reads the map once per class plane).
struct ClassMap: Sendable {
    /// The most label classes whose indices take one byte each.
    static let narrowClasses = Int(LOVASZ_CPU_NARROW_CLASSES)

    private enum Storage: Sendable {
        case narrow([Int8])
        case wide([Int32])
    }

    private let storage: Storage

    /// The number of pixels.
    var count: Int {
        switch storage {
        case .narrow(let values): values.count
        case .wide(let values): values.count
        }
    }

    /// Whether the indices take one byte each.
    var isNarrow: Bool {
        if case .narrow = storage { return true }
        return false
    }

    /// A map of `count` pixels for `labelClasses` label classes (at least 1), every entry
    /// written by `fill` (which receives the entries to write, `count` of them).
    ///
    /// - Throws: ``LovaszError/outOfMemory(bytes:)``.
    init(count: Int, labelClasses: Int, fill: (lovasz_class_output) -> Void) throws(LovaszError) {
        if labelClasses <= Self.narrowClasses {
            try FallibleMemory.ensureAvailable(bytes: try FallibleMemory.byteCount(Int8.self, count: count))
            var values = [Int8]()
            if count > 0 {
                // (Never through the initializer when empty: it would store into the shared
                // empty storage.)
                values = [Int8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
                values.withUnsafeMutableBufferPointer { out in fill(lovasz_class_output(narrow: out.baseAddress, wide: nil)) }
            }
            storage = .narrow(values)
        } else {
            try FallibleMemory.ensureAvailable(bytes: try FallibleMemory.byteCount(Int32.self, count: count))
            var values = [Int32]()
            if count > 0 {
                values = [Int32](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
                values.withUnsafeMutableBufferPointer { out in fill(lovasz_class_output(narrow: nil, wide: out.baseAddress)) }
            }
            storage = .wide(values)
        }
    }

    /// The class index of `pixel` (-1: ignored).
    subscript(pixel: Int) -> Int32 {
        switch storage {
        case .narrow(let values): Int32(values[pixel])
        case .wide(let values): values[pixel]
        }
    }

    /// Calls `body` with the map's entries (valid only inside `body`).
    func withIndices<R, E: Error>(_ body: (ClassIndices) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .narrow(let values):
            return try values.withUnsafeBufferPointer { (values) throws(E) -> R in
                try body(ClassIndices(lovasz_classes(narrow: values.baseAddress, wide: nil)))
            }
        case .wide(let values):
            return try values.withUnsafeBufferPointer { (values) throws(E) -> R in
                try body(ClassIndices(lovasz_classes(narrow: nil, wide: values.baseAddress)))
            }
        }
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
