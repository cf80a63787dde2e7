/// Transfers of the scores and the gradient between host arrays and device buffers, in
/// chunks on the transfer queue so that they overlap the kernels; on a discrete device
/// through pinned host memory (copied in parallel), where the bus runs at its full speed.
///
/// Not thread-safe: used under the backend's lock.
final class TransferStage {
    private let context: CLContext
    /// Whether transfers go through pinned memory (not on a device that shares the host's
    /// memory, where staging would only add a copy).
    let stages: Bool
    private var uploadStaging: CLPinnedStaging?
    private var downloadStaging: CLPinnedStaging?

    init(context: CLContext, staged: Bool) {
        self.context = context
        self.stages = staged
    }

    /// Enqueues the transfer of `values` to `buffer` (same byte offsets), one write per byte
    /// range of `chunks`, on the transfer queue without waiting.
    ///
    /// The host copy into pinned memory of a chunk runs while the earlier chunks transfer.
    /// `values` must stay valid until the returned events complete.
    /// - Parameter chunks: disjoint, non-empty byte ranges covering the part to transfer.
    /// - Returns: each chunk's event, in the order of `chunks`.
    func enqueueUpload(
        _ values: UnsafeRawBufferPointer, to buffer: CLBuffer, chunks: [Range<Int>], on queue: PipelineQueue
    ) throws(OpenCLError) -> [CLEvent] {
        let staging = stages
            ? try Self.staging(&uploadStaging, bytes: values.count, context: context, queue: queue.queue) : nil
        var events: [CLEvent] = []
        for chunk in chunks {
            var source = UnsafeRawBufferPointer(rebasing: values[chunk])
            if let staging {
                let pinned = staging.pointer + chunk.lowerBound
                Self.parallelCopy(from: source.baseAddress!, to: pinned, bytes: chunk.count)
                source = UnsafeRawBufferPointer(start: pinned, count: chunk.count)
            }
            let event = try buffer.write(from: source, atByteOffset: chunk.lowerBound, on: queue.transfer, blocking: false)
            try queue.transfer.flush()
            queue.record(event)
            events.append(event)
        }
        return events
    }

    /// Reads each byte range of `chunks` of `buffer` into `destination` (same offsets) once
    /// its `ready` events complete, on the transfer queue, and waits for all of them.
    ///
    /// The host copy out of pinned memory of a chunk runs while the later chunks transfer.
    /// - Parameter ready: for each chunk, the commands that write it.
    func download(
        _ buffer: CLBuffer, into destination: UnsafeMutableRawBufferPointer, chunks: [Range<Int>],
        ready: [[CLEvent]], on queue: PipelineQueue
    ) throws(OpenCLError) {
        let staging = stages
            ? try Self.staging(&downloadStaging, bytes: destination.count, context: context, queue: queue.queue) : nil
        try queue.queue.flush()  // the kernels the reads wait for must reach the device
        var events: [CLEvent] = []
        for (chunk, ready) in zip(chunks, ready) {
            let target = staging.map { UnsafeMutableRawBufferPointer(start: $0.pointer + chunk.lowerBound, count: chunk.count) }
                ?? UnsafeMutableRawBufferPointer(rebasing: destination[chunk])
            let event = try buffer.read(
                into: target, fromByteOffset: chunk.lowerBound, on: queue.transfer, blocking: false, waitingFor: ready)
            queue.record(event)
            events.append(event)
        }
        try queue.transfer.flush()
        for (chunk, event) in zip(chunks, events) {
            try event.wait()
            if let staging {
                Self.parallelCopy(
                    from: staging.pointer + chunk.lowerBound, to: destination.baseAddress! + chunk.lowerBound,
                    bytes: chunk.count)
            }
        }
    }

    /// `staging`, replaced by a larger one when it holds fewer than `bytes`.
    private static func staging(
        _ staging: inout CLPinnedStaging?, bytes: Int, context: CLContext, queue: CLCommandQueue
    ) throws(OpenCLError) -> CLPinnedStaging {
        if let existing = staging, existing.byteCount >= bytes { return existing }
        staging = nil  // release the smaller one first
        let created = try CLPinnedStaging(context: context, queue: queue, byteCount: bytes)
        staging = created
        return created
    }

    /// `memcpy` split over the host's processors (one thread copies well below memory speed).
    ///
    /// A transfer chunk is a few MiB, so it is cut into pieces of `bytes / (2 · processors)`
    /// (at least 256 KiB): a single 4 MiB piece per chunk left one thread copying every chunk.
    private static func parallelCopy(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, bytes: Int) {
        let workers = HostProcessors.online
        let piece = max(1 << 18, bytes / max(2 * workers, 1))
        parallelChunks(count: bytes, chunk: piece, workers: workers) { range in
            (destination + range.lowerBound).copyMemory(from: source + range.lowerBound, byteCount: range.count)
        }
    }
}

/// The images of a batch in consecutive chunks, for transfers that overlap the kernels.
struct ImageChunks {
    /// The images of each chunk, in order, covering `0 ..< batch`.
    let images: [Range<Int>]

    /// Chunks of whole images of about `chunkBytes` each (at least one image per chunk), of
    /// a batch whose images hold `bytesPerImage` bytes each; one chunk when `chunkBytes` is nil.
    init(batch: Int, bytesPerImage: Int, chunkBytes: Int?) {
        let perChunk = chunkBytes.map { max(1, $0 / max(bytesPerImage, 1)) } ?? max(batch, 1)
        images = stride(from: 0, to: batch, by: perChunk).map { $0 ..< min(batch, $0 + perChunk) }
    }

    /// The byte range of each chunk in an array of `bytesPerImage` bytes per image.
    func byteRanges(bytesPerImage: Int) -> [Range<Int>] {
        images.map { $0.lowerBound * bytesPerImage ..< $0.upperBound * bytesPerImage }
    }
}

/// Host memory that receives the gradient: float32, or the scores' 16-bit type.
struct GradientBuffer {
    /// As many elements of `type` as there are scores.
    let bytes: UnsafeMutableRawBufferPointer
    let type: ScoreType
}
