/// Zero-copy from OpenCL training code: the loss and its gradient on the caller's device
/// buffers, enqueued on the caller's command queue.
extension LovaszEngine {
    /// An engine on a caller's in-order OpenCL command queue.
    ///
    /// The engine derives the queue's context and device, builds the kernels there (once per
    /// context, shared by every engine on it), and retains the queue and the context until it
    /// is deinitialized. Every call enqueues on this queue, after the caller's earlier commands
    /// (host-array calls also upload on a second queue that the engine creates in the context).
    /// Engines on different queues or contexts work concurrently.
    ///
    /// - Parameters:
    ///   - openCLQueue: a `cl_command_queue` from any ICD loader (pyopencl's, the system's).
    ///   - threads: CPU threads for host-array calls that fall back to the CPU (none do: the
    ///     engine is OpenCL-only).
    /// - Throws: ``LovaszError/openCL(_:)`` for a null handle, a handle that is not a queue,
    ///   an out-of-order queue, or a failure to build the kernels.
    public convenience init(openCLQueue: OpaquePointer?, threads: Int? = nil) throws(LovaszError) {
        let backend = try mappingOpenCLErrors { () throws(OpenCLError) in try OpenCLBackend.adopting(queue: openCLQueue) }
        try self.init(openCL: backend, threads: threads)
    }

    /// Computes a loss and, when `gradient` is given, `∂loss/∂scores` on device buffers, with
    /// no host copy of the scores, labels or gradient.
    ///
    /// Commands go to the engine's queue in order (after `waitFor`); the labels are validated
    /// and planned on the device, and only the class counts of every group and the loss are
    /// read back. The call returns once the loss is read, so the gradient is complete then.
    ///
    /// - Parameters:
    ///   - scores: float32 scores in C order, `shape.reduce(1, *)` of them, all finite.
    ///   - shape: `[B, C, ...]` for softmax; `[B, ...]` or `[B, 1, ...]` for hinge and sigmoid.
    ///   - labels: uint8, int32 or int64 labels, one per pixel, any element-aligned offset.
    ///   - options: the loss and its options.
    ///   - gradient: when given, a float32 buffer of as many elements as `scores` (not
    ///     read-only, not overlapping the scores), which receives `∂loss/∂scores`.
    ///   - waitFor: `cl_event` handles of the engine's context that must complete first.
    ///   - returnEvent: also return a marker `cl_event` that completes after this call's
    ///     commands; the caller owns it and releases it with `clReleaseEvent`.
    /// - Returns: the loss result and the event (or `nil`).
    /// - Throws: ``LovaszError/openCLUnavailable(_:)`` on an engine without OpenCL;
    ///   ``LovaszError/invalidShape(_:)`` for counts that do not match the shape or buffers too
    ///   small; ``LovaszError/openCL(_:)`` for null or invalid handles, buffers of another
    ///   context, offsets of scores or gradient not aligned to `CL_DEVICE_MEM_BASE_ADDR_ALIGN`;
    ///   label and score errors as ``compute(scores:shape:labels:options:gradient:)``.
    public func compute(
        scores: OpenCLDeviceBuffer, shape: [Int], labels: OpenCLDeviceBuffer, options: LossOptions,
        gradient: OpenCLDeviceBuffer? = nil, waitFor: [OpaquePointer?] = [], returnEvent: Bool = false
    ) throws(LovaszError) -> (result: LossResult, event: OpaquePointer?) {
        guard let openCL else {
            throw .openCLUnavailable(fallbackReason ?? "the engine computes on the CPU; device buffers need an OpenCL engine")
        }
        let problemShape = try ProblemShape(scores: shape, loss: options.loss)
        let outcome = try openCL.compute(
            scores: scores, shape: problemShape, labels: labels, options: options, gradient: gradient,
            waitFor: waitFor, completionEvent: returnEvent)
        let result = LossResult(outcome.loss.plan, loss: outcome.loss.loss, backend: .opencl, device: device)
        return (result, outcome.event.flatMap { OpaquePointer(bitPattern: $0) })
    }
}
