/// Device buffers kept between calls, one per role, grown when a call needs more.
///
/// In steady state (the same shapes call after call) no buffer is created. Not thread-safe:
/// used under the backend's lock.
final class DeviceBuffers {
    enum Role: Hashable, CaseIterable {
        case scores, narrowScores, probabilities, classOf, validPixels, segments, weights
        case keys, counts, tileTotals, tileCarries, terms, termPartials, segmentLosses
        case upstream, gradient, narrowGradient, status, placeholder
        case boundPartials, cuts, blockCounts, blockOffsets, kept, segmentForegroundTotals
        case blockSegments, firstBlock, largeSegments, order, compactBlocks
        case labels, labelStatus, partCounts, groupCounts, partOffsets, groupOffsets, probe
    }

    let context: CLContext
    private var buffers: [Role: CLBuffer] = [:]

    init(context: CLContext) {
        self.context = context
    }

    /// The buffer for `role`, holding at least `bytes` bytes (at least 16).
    func buffer(_ role: Role, bytes: Int) throws(OpenCLError) -> CLBuffer {
        let needed = max(bytes, 16)
        if let existing = buffers[role], existing.byteCount >= needed { return existing }
        buffers[role] = nil  // release the smaller buffer before asking for the larger one
        let created = try CLBuffer(context: context, byteCount: needed)
        buffers[role] = created
        return created
    }

    /// Releases every buffer (after an out-of-resources failure, say).
    func removeAll() { buffers.removeAll() }
}
