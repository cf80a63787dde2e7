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
