import CLovaszCPU

/// Calls `body` with `labels` (class indices, -1 for ignored, all in -1 ... 127 when `narrow`)
/// as the C passes take them: one byte each (`narrow`) or four.
func withClassRun<R>(_ labels: [Int32], narrow: Bool, _ body: (lovasz_classes) -> R) -> R {
    if narrow {
        let bytes = labels.map { Int8(exactly: $0)! }
        return bytes.withUnsafeBufferPointer { body(lovasz_classes(narrow: $0.baseAddress, wide: nil)) }
    }
    return labels.withUnsafeBufferPointer { body(lovasz_classes(narrow: nil, wide: $0.baseAddress)) }
}
