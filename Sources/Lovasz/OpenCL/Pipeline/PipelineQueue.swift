/// A phase of the launch sequence, for per-phase timings.
///
/// Generic names, so that new stages (another sort, planning on the device) fall into one.
enum PipelinePhase: String, CaseIterable, Sendable {
    /// Host-to-device transfers of the inputs.
    case upload
    /// The segment table, the cuts and the kept counts.
    case plan
    /// Validation, probabilities, and the sort keys.
    case keys
    /// The segmented sort of the keys.
    case sort
    /// The scan of the foreground counts, the Lovász gradient and the loss sums.
    case gradient = "scan+gradient"
    /// From the gradient of the probabilities to that of the scores.
    case backpropagation
    /// Device-to-host transfers of the results.
    case download
}

/// The command queues of a launch sequence: an in-order queue for the kernels and a second
/// one for transfers that overlap them, with the current phase: every command enqueued through
/// it is attributed to that phase, and its event kept when the queues profile.
///
/// Not thread-safe: used under the backend's lock.
final class PipelineQueue {
    /// The queue of the kernels, fills and small transfers.
    let queue: CLCommandQueue
    /// The queue of the chunked transfers of the scores and the gradient.
    let transfer: CLCommandQueue
    /// The phase the next commands belong to.
    var phase: PipelinePhase = .upload
    /// The event of the last command enqueued on ``queue`` (nil before the first).
    private(set) var lastComputeEvent: CLEvent?
    /// Host copies of the values of writes that may still be in flight (``write(_:to:)``).
    private var pendingWrites: [UnsafeMutableRawBufferPointer] = []
    /// The events of the commands enqueued since ``takeEvents()``, when profiling, with the
    /// command (a kernel's name, or a transfer).
    private var events: [ProfiledCommand] = []

    /// Creates both queues in `context`, with event profiling when `profiling`.
    ///
    /// - Throws: ``OpenCLError`` from `clCreateCommandQueue`.
    init(context: CLContext, profiling: Bool = false) throws(OpenCLError) {
        queue = try CLCommandQueue(context: context, profiling: profiling)
        transfer = try CLCommandQueue(context: context, profiling: profiling)
    }

    deinit {
        // The writes' host copies may be read until the queue has run them.
        if !pendingWrites.isEmpty { try? queue.finish() }
        releasePendingWrites()
    }

    /// Runs the kernels on `queue` (this library's, or a caller's) and creates the transfer
    /// queue in its context, profiling as `queue` does.
    ///
    /// - Throws: ``OpenCLError`` from `clCreateCommandQueue`.
    init(_ queue: CLCommandQueue) throws(OpenCLError) {
        self.queue = queue
        transfer = try CLCommandQueue(context: queue.context, profiling: queue.profiling)
    }

    /// Enqueues `kernel`, its arguments set, over `globalSize` work-items in groups of
    /// `localSize`, after `events` (see ``CLCommandQueue/enqueue(_:globalSize:localSize:waitingFor:)``).
    @discardableResult
    func launch(
        _ kernel: CLKernel, globalSize: [Int], localSize: [Int]? = nil, waitingFor events: [CLEvent] = []
    ) throws(OpenCLError) -> CLEvent {
        let event = try queue.enqueue(kernel, globalSize: globalSize, localSize: localSize, waitingFor: events)
        lastComputeEvent = event
        record(event, command: kernel.name)
        return event
    }

    /// Attributes `event` to the current phase (kept only when the queues profile).
    ///
    /// - Parameter command: what the event is of, for the per-command times of the trace.
    func record(_ event: CLEvent, command: String = "transfer") {
        if queue.profiling { events.append(ProfiledCommand(phase: phase, command: command, event: event)) }
    }

    /// Reads `count` values of `T` from the start of `buffer`, waiting for them (and so for
    /// every command before). Meant for small reads; not recorded.
    func read<T: BitwiseCopyable>(_ type: T.Type, count: Int, from buffer: CLBuffer) throws(OpenCLError) -> [T] {
        let values = try buffer.read(type, count: count, on: queue)
        releasePendingWrites()
        return values
    }

    /// Enqueues filling the first `count` values of `buffer` with `pattern`.
    func fill<T: BitwiseCopyable>(_ buffer: CLBuffer, with pattern: T, count: Int) throws(OpenCLError) {
        let event = try buffer.fill(with: pattern, byteCount: count * MemoryLayout<T>.stride, on: queue)
        lastComputeEvent = event
        record(event, command: "fill")
    }

    /// Enqueues writing `values` to the start of `buffer`, without waiting: the values are
    /// first copied into host memory that the queue keeps until its next ``read(_:count:from:)``
    /// (which waits for every command before it), so that writing a table in the middle of the
    /// launch sequence never stalls it.
    func write<T: BitwiseCopyable>(_ values: [T], to buffer: CLBuffer) throws(OpenCLError) {
        let bytes = values.count * MemoryLayout<T>.stride
        guard bytes > 0 else { return }
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 16)
        values.withUnsafeBytes { copy.copyMemory(from: $0) }
        pendingWrites.append(copy)
        let event = try buffer.write(from: UnsafeRawBufferPointer(copy), on: queue, blocking: false)
        lastComputeEvent = event
        record(event)
    }

    /// Frees the host copies of the writes enqueued so far: only once every command before
    /// now has completed.
    private func releasePendingWrites() {
        pendingWrites.forEach { $0.deallocate() }
        pendingWrites.removeAll()
    }

    /// The events recorded so far, which are forgotten.
    func takeEvents() -> [ProfiledCommand] {
        defer { events.removeAll() }
        return events
    }
}

extension CLKernel {
    /// Sets every argument in order, from the first: buffers, and `uint` scalars.
    ///
    /// Called by the stage that owns the kernel, with the arguments in the order of the
    /// kernel's signature.
    func setArguments(_ arguments: KernelArgument...) throws(OpenCLError) {
        try setArguments(arguments)
    }

    /// Sets every argument in order, from the first (for argument lists built in parts).
    func setArguments(_ arguments: [KernelArgument]) throws(OpenCLError) {
        for (index, argument) in arguments.enumerated() {
            switch argument {
            case .buffer(let buffer): try setArgument(index, buffer: buffer)
            case .uint(let value): try setArgument(index, value: value)
            case .ulong(let value): try setArgument(index, value: value)
            case .long(let value): try setArgument(index, value: value)
            }
        }
    }
}

/// One kernel argument.
enum KernelArgument {
    case buffer(CLBuffer)
    case uint(UInt32)
    case ulong(UInt64)
    case long(Int64)

    /// A `uint` argument from an `Int` known to fit.
    static func count(_ value: Int) -> KernelArgument { .uint(UInt32(truncatingIfNeeded: value)) }

    /// A `uint` flag argument: 1 for true, 0 for false.
    static func flag(_ value: Bool) -> KernelArgument { .uint(value ? 1 : 0) }
}

/// One profiled command: its phase, what it is (a kernel's name, `fill` or `transfer`) and
/// its event.
struct ProfiledCommand {
    let phase: PipelinePhase
    let command: String
    let event: CLEvent
}
