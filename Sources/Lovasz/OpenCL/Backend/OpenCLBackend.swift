internal import CLovaszOpenCL
import Synchronization

/// The OpenCL path: one device, its program and queue, and device buffers reused across
/// calls (see ``OpenCLPipeline`` for the launch sequence).
///
/// Every call plans on the device (the labels validated and counted there, see
/// `Kernels/lovasz_plan.cl`), then runs the launch sequence; host arrays are uploaded as they
/// are, a caller's device buffers are used in place. Calls are serialized by a lock, so any
/// number of threads may share one backend.
final class OpenCLBackend: Sendable {
    let device: OpenCLDevice
    let configuration: KernelConfiguration
    /// Whether the queue is a caller's (``adopting(queue:)``).
    let adoptedQueue: Bool
    private let pipeline: Mutex<OpenCLPipeline>

    /// Builds the kernels for `device` (or takes them from `programs`) and creates a queue.
    ///
    /// - Parameters:
    ///   - chunkKeyLimit: at most this many keys sorted per chunk (tests use it to force
    ///     several chunks); by default what the device's memory allows.
    ///   - stagedTransfers: transfer through pinned host memory; by default on devices that do
    ///     not share the host's memory (tests force it on PoCL).
    ///   - transferChunkBytes: move the scores and the gradient in chunks of whole images of
    ///     about this many bytes (≥ 1; at least one image), overlapping the kernels; by default
    ///     ``defaultTransferChunkBytes`` on devices that do not share the host's memory, one
    ///     piece on the others (tests force small chunks on PoCL).
    ///   - formsFor: build the kernel forms of this kind of device instead of `device`'s own
    ///     (tests run a GPU's forms on PoCL).
    ///   - radixRanking: where a GPU layout's radix sort ranks its tiles; by default as
    ///     `LOVASZ_RADIX_RANKING` says (tests run both).
    /// - Throws: ``OpenCLError`` from any OpenCL call, with the build log for a build failure.
    convenience init(
        device: OpenCLDevice, programs: ProgramCache = OpenCLBackend.programs, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool? = nil, transferChunkBytes: Int? = nil, formsFor kind: OpenCLDeviceKind? = nil,
        radixRanking: KernelConfiguration.RadixRanking? = nil
    ) throws(OpenCLError) {
        let (stages, configuration) = try PipelineStages.build(
            for: device, formsFor: kind, radixRanking: radixRanking
        ) { (options) throws(OpenCLError) in
            try programs.program(for: device, source: KernelConfiguration.source, options: options)
        }
        let queue = try CLCommandQueue(context: stages.program.context)
        try self.init(stages: stages, configuration: configuration, queue: queue, chunkKeyLimit: chunkKeyLimit,
                      stagedTransfers: stagedTransfers, transferChunkBytes: transferChunkBytes)
    }

    /// A backend running `stages` on `queue` (of the stages' context); see
    /// ``init(device:programs:chunkKeyLimit:stagedTransfers:transferChunkBytes:)`` for the rest.
    init(
        stages: PipelineStages, configuration: KernelConfiguration, queue: CLCommandQueue, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool? = nil, transferChunkBytes: Int? = nil, adoptedQueue: Bool = false
    ) throws(OpenCLError) {
        let device = queue.context.device
        self.device = device
        self.adoptedQueue = adoptedQueue
        self.configuration = configuration
        self.pipeline = Mutex(try OpenCLPipeline(
            queue: queue, stages: stages, configuration: configuration, chunkKeyLimit: chunkKeyLimit,
            stagedTransfers: stagedTransfers ?? !device.hostUnifiedMemory,
            transferChunkBytes: transferChunkBytes ?? (device.hostUnifiedMemory ? nil : Self.defaultTransferChunkBytes)))
    }

    /// A backend on a caller's in-order command queue (retained; released with the backend),
    /// building the kernels for its context and device once per context.
    ///
    /// - Throws: ``OpenCLError`` for a null or invalid queue, an out-of-order queue, and any
    ///   failure to build the kernels.
    static func adopting(queue handle: OpaquePointer?) throws(OpenCLError) -> OpenCLBackend {
        let queue = try CLExternal.adoptQueue(handle)
        let (stages, configuration) = try PipelineStages.build(for: queue.context.device) { (options) throws(OpenCLError) in
            try ContextProgramCache.shared.program(for: queue.context, source: KernelConfiguration.source, options: options)
        }
        return try OpenCLBackend(stages: stages, configuration: configuration, queue: queue, adoptedQueue: true)
    }

    /// The transfer chunk on a discrete device: large enough to run near the bus's speed, small
    /// enough that the first kernels start early.
    static let defaultTransferChunkBytes = 4 << 20

    /// Programs built in this process, shared by every backend: one per device and build
    /// options.
    static let programs = ProgramCache()

    /// Backends by device index, so that engines on one device share its programs and buffers.
    private static let backends = Mutex<[Int: OpenCLBackend]>([:])

    /// The process-wide backend for `device`, created on first use.
    static func shared(for device: OpenCLDevice) throws(OpenCLError) -> OpenCLBackend {
        try backends.withLock { (backends) throws(OpenCLError) -> OpenCLBackend in
            if let backend = backends[device.index] { return backend }
            let backend = try OpenCLBackend(device: device)
            backends[device.index] = backend
            return backend
        }
    }

    /// Computes the loss of host arrays and, when `gradient` is given, `∂loss/∂scores` into it.
    ///
    /// The scores (float32 or 16-bit, `type`) and the labels are uploaded as they are, the
    /// scores in chunks of images that overlap the kernels; the labels are validated and planned
    /// on the device (the host never passes over them), then the launch sequence runs. With
    /// `LOVASZ_TRACE` set, or `profile`, the call runs on profiling queues and gives the device
    /// time of each phase.
    ///
    /// - Parameters:
    ///   - scores: `shape.scoreCount` elements of `type`.
    ///   - gradient: as many elements of its type as there are scores.
    /// - Throws: ``LovaszError`` for out-of-range labels, non-finite scores (first position)
    ///   and bad options, ``LovaszError/openCL(_:)`` when an OpenCL call fails.
    func compute<Label: FixedWidthInteger>(
        scores: UnsafeRawBufferPointer, type: ScoreType, shape: ProblemShape, labels: UnsafeBufferPointer<Label>,
        options: LossOptions, gradient: GradientBuffer?, profile: Bool = false
    ) throws(LovaszError) -> (loss: PlannedLoss, phases: PhaseTimes?) {
        try locked { (pipeline) throws(LovaszError) -> (loss: PlannedLoss, phases: PhaseTimes?) in
            let run = { () throws(LovaszError) -> PlannedLoss in
                // The uploads read the caller's memory until they complete, even when the call fails early.
                defer { try? pipeline.queue.transfer.finish() }
                // The labels first: the device plans while the host stages the scores.
                pipeline.trace.start()
                let deviceLabels = try mappingOpenCLErrors { () throws(OpenCLError) in try pipeline.uploadLabels(labels) }
                return try Self.plannedRun(
                    pipeline: pipeline, shape: shape, options: options, labels: deviceLabels,
                    ignore: options.ignoreIndex.flatMap { Label(exactly: $0) }.map { Int($0) },
                    scores: { () throws(LovaszError) in
                        try mappingOpenCLErrors { () throws(OpenCLError) in
                            try pipeline.uploadScores(scores, type: type, shape: shape)
                        }
                    },
                    gradient: gradient.map { .host($0) } ?? .none,
                    labelText: { flat in String(labels[flat]) }, scoreValue: { flat in type.value(in: scores, at: flat) })
            }
            guard profile || pipeline.trace.enabled else { return (try run(), nil) }
            let (result, phases) = try mappingOpenCLErrors { () throws(OpenCLError) in
                try pipeline.profiled { () -> Result<PlannedLoss, LovaszError> in
                    do throws(LovaszError) { return .success(try run()) } catch { return .failure(error) }
                }
            }
            pipeline.trace.report(phases)
            return (try result.get(), phases)
        }
    }

    /// Computes on a caller's device buffers on this backend's queue: plans on the device,
    /// runs the launch sequence and leaves the gradient in the caller's gradient buffer.
    ///
    /// - Parameters:
    ///   - events: `cl_event` handles every command waits for.
    ///   - completionEvent: return a retained marker event (the caller releases it).
    /// - Throws: as ``compute(scores:shape:labels:options:gradient:)``, and the buffer checks
    ///   of ``OpenCLPipeline/adopt(_:role:types:count:fromElementZero:written:)``.
    func compute(
        scores: OpenCLDeviceBuffer, shape: ProblemShape, labels: OpenCLDeviceBuffer, options: LossOptions,
        gradient: OpenCLDeviceBuffer?, waitFor events: [OpaquePointer?], completionEvent: Bool, profile: Bool = false
    ) throws(LovaszError) -> DeviceOutcome {
        return try locked { (pipeline) throws(LovaszError) -> DeviceOutcome in
            guard profile else {
                return try run(pipeline)
            }
            // Profiling queues are this library's own: a caller's queue would lose its ordering.
            guard !adoptedQueue else { throw .openCLUnavailable("phase times need an engine on its own queue") }
            let (result, phases) = try mappingOpenCLErrors { () throws(OpenCLError) in
                try pipeline.profiled { () -> Result<DeviceOutcome, LovaszError> in
                    do throws(LovaszError) { return .success(try run(pipeline)) } catch { return .failure(error) }
                }
            }
            var outcome = try result.get()
            outcome.phases = phases
            return outcome
        }

        func run(_ pipeline: OpenCLPipeline) throws(LovaszError) -> DeviceOutcome {
            let scoreType = scores.elementType.scoreType ?? .float32  // other types are refused below
            let scoreBuffer = try pipeline.adopt(
                scores, role: "scores", types: [.float32, .float16, .bfloat16], count: shape.scoreCount, fromElementZero: true,
                written: false).buffer
            let deviceScores = try mappingOpenCLErrors { () throws(OpenCLError) in
                scoreType == .float32
                    ? DeviceScores.resident(float32: scoreBuffer, narrow: nil, shape: shape)
                    : DeviceScores.resident(
                        float32: try pipeline.buffers.buffer(.scores, bytes: shape.scoreCount * 4),
                        narrow: (scoreBuffer, scoreType), shape: shape)
            }
            let labelTypes: [DeviceElementType] = [.uint8, .int32, .int64]
            let (labelBuffer, labelOffset) = try pipeline.adopt(
                labels, role: "labels", types: labelTypes, count: shape.pixelCount, fromElementZero: false, written: false)
            let gradientTypes: [DeviceElementType] = scores.elementType == .float32 ? [.float32] : [.float32, scores.elementType]
            let gradientBuffer = try gradient.map { (range) throws(LovaszError) in
                try pipeline.adopt(
                    range, role: "gradient", types: gradientTypes, count: shape.scoreCount, fromElementZero: true, written: true).buffer
            }
            let gradientType = gradient?.elementType.scoreType ?? .float32
            let type: LabelElementType = labels.elementType == .uint8 ? .uint8 : labels.elementType == .int32 ? .int32 : .int64
            let deviceLabels = DeviceLabels(buffer: labelBuffer, elementOffset: labelOffset, type: type)
            guard events.allSatisfy({ $0 != nil }) else {
                throw .openCL(OpenCLError(status: CL_INVALID_EVENT_WAIT_LIST, call: "lovasz (wait events)", detail: "a wait event is NULL"))
            }
            try mappingOpenCLErrors { () throws(OpenCLError) in try pipeline.queue.queue.waitFor(events: events.compactMap { $0 }) }
            pipeline.trace.start()
            let outcome = try Self.plannedRun(
                pipeline: pipeline, shape: shape, options: options, labels: deviceLabels,
                ignore: options.ignoreIndex.flatMap { type.representable($0) }, scores: { deviceScores },
                gradient: gradientBuffer.map { .device($0, gradientType) } ?? .none,
                labelText: { (flat) throws(OpenCLError) in
                    let bytes = try pipeline.probe(
                        labelBuffer, byteOffset: (labelOffset + flat) * type.byteCount, bytes: type.byteCount)
                    return type.decimal(bytes)
                },
                scoreValue: { (flat) throws(OpenCLError) in
                    let size = scores.elementType.byteCount
                    let bytes = try pipeline.probe(scoreBuffer, byteOffset: flat * size, bytes: size)
                    return bytes.withUnsafeBytes { scoreType.value(in: $0, at: 0) }
                })
            guard completionEvent else { return DeviceOutcome(loss: outcome, event: nil, phases: nil) }
            let event = try mappingOpenCLErrors { () throws(OpenCLError) -> cl_event in
                let marker = try pipeline.queue.queue.marker().retainedHandle()
                try pipeline.queue.queue.flush()
                return marker
            }
            return DeviceOutcome(loss: outcome, event: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(event))), phases: nil)
        }
    }

    /// Runs `body` with the pipeline under the lock; after an OpenCL failure the device
    /// buffers are released (the next call allocates afresh).
    func locked<R: Sendable>(_ body: (OpenCLPipeline) throws(LovaszError) -> R) throws(LovaszError) -> R {
        let result: Result<R, LovaszError> = pipeline.withLock { pipeline in
            do throws(LovaszError) {
                return .success(try body(pipeline))
            } catch {
                if case .openCL = error { pipeline.buffers.removeAll() }
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Runs `body` with the pipeline, under the lock; after a failure the device buffers are
    /// released (the failure may have been running out of device memory).
    ///
    /// - Throws: ``LovaszError/openCL(_:)`` with `body`'s error.
    func withPipeline<R: Sendable>(_ body: (OpenCLPipeline) throws(OpenCLError) -> R) throws(LovaszError) -> R {
        try locked { (pipeline) throws(LovaszError) -> R in
            try mappingOpenCLErrors { () throws(OpenCLError) in try body(pipeline) }
        }
    }

    /// Runs `body` with the pipeline under the lock, returning a non-`Sendable` result as a `Result`.
    func withPipelineResult<R>(_ body: (OpenCLPipeline) throws(OpenCLError) -> R) -> Result<R, OpenCLError> {
        pipeline.withLock { pipeline in
            do throws(OpenCLError) { return .success(try body(pipeline)) } catch { return .failure(error) }
        }
    }
}
