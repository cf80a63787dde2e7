/// Transfers between host arrays and device buffers; on a discrete device through pinned
/// host memory (copied in parallel), where the bus runs at its full speed.
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

    /// Enqueues the transfer of `values` to the start of `buffer` without waiting.
    ///
    /// `values` must stay valid until the queue has finished (when not staged).
    func enqueueUpload(_ values: UnsafeRawBufferPointer, to buffer: CLBuffer, on queue: PipelineQueue) throws(OpenCLError) {
        guard stages else {
            queue.record(try buffer.write(from: values, on: queue.queue, blocking: false))
            return
        }
        let staging = try Self.staging(&uploadStaging, bytes: values.count, context: context, queue: queue.queue)
        Self.parallelCopy(from: values.baseAddress!, to: staging.pointer, bytes: values.count)
        let pinned = UnsafeRawBufferPointer(start: staging.pointer, count: values.count)
        queue.record(try buffer.write(from: pinned, on: queue.queue, blocking: false))
    }

    /// Reads the start of `buffer` into `destination`, waiting for it and every command before.
    func download(_ buffer: CLBuffer, into destination: UnsafeMutableRawBufferPointer, on queue: PipelineQueue) throws(OpenCLError) {
        guard stages else {
            queue.record(try buffer.read(into: destination, on: queue.queue, blocking: true))
            return
        }
        let staging = try Self.staging(&downloadStaging, bytes: destination.count, context: context, queue: queue.queue)
        let pinned = UnsafeMutableRawBufferPointer(start: staging.pointer, count: destination.count)
        queue.record(try buffer.read(into: pinned, on: queue.queue, blocking: true))
        Self.parallelCopy(from: staging.pointer, to: destination.baseAddress!, bytes: destination.count)
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
    private static func parallelCopy(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, bytes: Int) {
        parallelChunks(count: bytes, chunk: 1 << 22, workers: HostProcessors.online) { range in
            (destination + range.lowerBound).copyMemory(from: source + range.lowerBound, byteCount: range.count)
        }
    }
}
