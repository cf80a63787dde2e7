/// The compute backend that produced a result.
public enum Backend: String, Sendable, Hashable {
    /// The multi-threaded CPU path.
    case cpu
    /// The OpenCL kernels.
    case opencl
}

/// Which backend an engine should use.
public enum BackendChoice: String, Sendable, CaseIterable, Hashable {
    /// A GPU through OpenCL when one is usable, otherwise the CPU (the reason is recorded).
    case auto
    /// Always the CPU path.
    case cpu
    /// Always OpenCL (any device, including PoCL's CPU device); failures are thrown.
    case opencl
}

/// The value of a Lovász loss and how it was computed.
public struct LossResult: Sendable, Hashable {
    /// The loss: the (weighted) mean over counted classes, and over images when per image.
    public var loss: Double
    /// The number of distinct classes counted in at least one group.
    public var classesCounted: Int
    /// The number of (group, class) segments that were sorted.
    public var segments: Int
    /// The backend that computed it.
    public var backend: Backend
    /// The device that computed it (`"CPU (n threads)"` for the CPU path).
    public var device: String

    public init(loss: Double, classesCounted: Int, segments: Int, backend: Backend, device: String) {
        self.loss = loss
        self.classesCounted = classesCounted
        self.segments = segments
        self.backend = backend
        self.device = device
    }
}
