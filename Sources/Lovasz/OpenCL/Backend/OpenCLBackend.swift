import Synchronization

/// The OpenCL path: one device, its program and queue, and device buffers reused across
/// calls (see ``OpenCLPipeline`` for the launch sequence).
///
/// Calls are serialized by a lock, so any number of threads may share one backend.
final class OpenCLBackend: Sendable {
    let device: OpenCLDevice
    let configuration: KernelConfiguration
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
    /// - Throws: ``OpenCLError`` from any OpenCL call, with the build log for a build failure.
    init(
        device: OpenCLDevice, programs: ProgramCache = OpenCLBackend.programs, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool? = nil, transferChunkBytes: Int? = nil
    ) throws(OpenCLError) {
        let (stages, configuration) = try PipelineStages.build(for: device, programs: programs)
        self.device = device
        self.configuration = configuration
        self.pipeline = Mutex(try OpenCLPipeline(
            program: stages.program, stages: stages, configuration: configuration, chunkKeyLimit: chunkKeyLimit,
            stagedTransfers: stagedTransfers ?? !device.hostUnifiedMemory,
            transferChunkBytes: transferChunkBytes ?? (device.hostUnifiedMemory ? nil : Self.defaultTransferChunkBytes)))
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

    /// Computes the loss of `problem` and, when `gradient` is given, `∂loss/∂scores` into it.
    ///
    /// - Throws: ``LovaszError/nonFiniteScore(position:value:)`` when the kernels find a NaN
    ///   or infinity, ``LovaszError/openCL(_:)`` when an OpenCL call fails.
    func compute(_ problem: LossProblem, gradient: GradientBuffer?) throws(LovaszError) -> Double {
        let outcome = try withPipeline { (pipeline) throws(OpenCLError) in
            guard pipeline.trace.enabled else { return try pipeline.run(problem, gradient: gradient) }
            let (outcome, phases) = try pipeline.profiled { () throws(OpenCLError) in
                try pipeline.run(problem, gradient: gradient)
            }
            pipeline.trace.report(phases)
            return outcome
        }
        return try Self.loss(of: outcome, for: problem)
    }

    /// Runs `body` with the pipeline, under the lock; after a failure the device buffers are
    /// released (the failure may have been running out of device memory).
    ///
    /// - Throws: ``LovaszError/openCL(_:)`` with `body`'s error.
    func withPipeline<R: Sendable>(_ body: (OpenCLPipeline) throws(OpenCLError) -> R) throws(LovaszError) -> R {
        let result: Result<R, OpenCLError> = pipeline.withLock { pipeline in
            do throws(OpenCLError) {
                return .success(try body(pipeline))
            } catch {
                pipeline.buffers.removeAll()
                return .failure(error)
            }
        }
        do throws(OpenCLError) { return try result.get() } catch { throw .openCL(error) }
    }

    /// The loss of an outcome, or the error for the non-finite score it found.
    static func loss(of outcome: OpenCLOutcome, for problem: LossProblem) throws(LovaszError) -> Double {
        if let bad = outcome.firstNonFinite { throw problem.nonFiniteError(at: bad) }
        return outcome.loss
    }
}
