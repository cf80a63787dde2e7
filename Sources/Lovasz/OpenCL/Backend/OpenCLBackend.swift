import Synchronization

/// The OpenCL path: one device, its context and queue, the kernels built once, and device
/// buffers reused across calls (DESIGN §5).
///
/// One call is one launch sequence with no host round trip between kernels: validation,
/// probabilities, per chunk of segments the keys, the segmented bitonic sort, the scan of
/// the foreground counts, the Lovász gradient and the per-segment loss sums, then the
/// back-propagation; the loss terms and the gradient are read back at the end. Calls are
/// serialized by a lock, so any number of threads may share one backend.
final class OpenCLBackend: Sendable {
    let device: OpenCLDevice
    let configuration: KernelConfiguration
    private let session: Mutex<OpenCLSession>

    /// Creates the context and queue for `device` and builds the kernels.
    ///
    /// - Parameters:
    ///   - chunkKeyLimit: at most this many keys sorted per chunk (tests use it to force
    ///     several chunks); by default what the device's memory allows.
    ///   - stagedTransfers: transfer through pinned host memory; by default on devices that do
    ///     not share the host's memory (tests force it on PoCL).
    /// - Throws: ``OpenCLError`` from any OpenCL call, with the build log for a build failure.
    init(
        device: OpenCLDevice, programs: ProgramCache = OpenCLBackend.programs, chunkKeyLimit: Int? = nil,
        stagedTransfers: Bool? = nil
    ) throws(OpenCLError) {
        let context = try CLContext(device: device)
        var configuration = KernelConfiguration(device: device)
        var program = try programs.program(
            for: context, source: KernelConfiguration.source, options: configuration.buildOptions)
        var kernels = try LovaszKernelSet(program: program)
        // A kernel may allow fewer work-items than the device (registers, local memory).
        let limit = try kernels.groupedKernels.map { (kernel) throws(OpenCLError) in try kernel.maxWorkGroupSize }.min() ?? 1
        if limit < configuration.localSize {
            configuration = KernelConfiguration(device: device, localSizeLimit: limit)
            program = try programs.program(
                for: context, source: KernelConfiguration.source, options: configuration.buildOptions)
            kernels = try LovaszKernelSet(program: program)
        }
        self.device = device
        self.configuration = configuration
        self.session = Mutex(try OpenCLSession(
            context: context, kernels: kernels, configuration: configuration, chunkKeyLimit: chunkKeyLimit,
            stagedTransfers: stagedTransfers ?? !device.hostUnifiedMemory))
    }

    /// Programs built in this process, shared by every backend.
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
    func compute(
        _ problem: LossProblem, gradient: UnsafeMutableBufferPointer<Float>?
    ) throws(LovaszError) -> Double {
        let outcome: Result<OpenCLOutcome, OpenCLError> = session.withLock { session in
            do throws(OpenCLError) {
                return .success(try session.run(problem, gradient: gradient))
            } catch {
                session.buffers.removeAll()
                return .failure(error)
            }
        }
        return try result(of: outcome, for: problem)
    }

    /// Uploads `problem`'s inputs once, then times `repetitions` launch sequences that
    /// compute the loss and gradient with the inputs and the gradient left on the device.
    ///
    /// - Returns: the seconds of each repetition (wall clock, from the first enqueue to the
    ///   loss read back), and the loss.
    func residentTimes(_ problem: LossProblem, repetitions: Int) throws(LovaszError) -> (seconds: [Double], loss: Double) {
        let clock = ContinuousClock()
        let outcome: Result<([Double], OpenCLOutcome), OpenCLError> = session.withLock { session in
            do throws(OpenCLError) {
                var last = try session.run(problem, gradient: nil, resident: false)
                var seconds: [Double] = []
                for _ in 0..<repetitions {
                    let start = clock.now
                    last = try session.run(problem, gradient: nil, resident: true)
                    let elapsed = clock.now - start
                    seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
                }
                return .success((seconds, last))
            } catch {
                session.buffers.removeAll()
                return .failure(error)
            }
        }
        switch outcome {
        case .failure(let error): throw .openCL(error)
        case .success(let (seconds, last)):
            let loss = try result(of: .success(last), for: problem)
            return (seconds, loss)
        }
    }

    /// Runs `body` with the session, under the lock (tests drive single kernels through it).
    func withSession<R: Sendable>(_ body: (OpenCLSession) throws(OpenCLError) -> R) throws(OpenCLError) -> R {
        let result: Result<R, OpenCLError> = session.withLock { session in
            do throws(OpenCLError) { return .success(try body(session)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func result(of outcome: Result<OpenCLOutcome, OpenCLError>, for problem: LossProblem) throws(LovaszError) -> Double {
        switch outcome {
        case .failure(let error):
            throw .openCL(error)
        case .success(let result):
            if let bad = result.firstNonFinite { throw problem.nonFiniteError(at: bad) }
            return result.loss
        }
    }
}

/// What one launch sequence read back.
struct OpenCLOutcome: Sendable {
    var loss: Double
    var firstNonFinite: Int?
}
