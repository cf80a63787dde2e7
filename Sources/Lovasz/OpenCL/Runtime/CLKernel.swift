internal import CLovaszOpenCL

/// One kernel of a built program, with its arguments; released when the last reference goes.
///
/// Not thread-safe: setting arguments (`clSetKernelArg`) must not race with another thread
/// setting or enqueueing this kernel. Make one kernel object per thread, or serialize.
final class CLKernel {
    /// The program the kernel belongs to (kept alive by the kernel).
    let program: CLProgram
    /// The `__kernel` function's name.
    let name: String
    let handle: cl_kernel
    /// Buffers bound as arguments, kept alive for as long as they are bound.
    private var boundBuffers: [Int: CLBuffer] = [:]

    /// Creates the kernel `name` of `program`.
    ///
    /// - Throws: ``OpenCLError`` from `clCreateKernel`.
    init(program: CLProgram, name: String) throws(OpenCLError) {
        var status: cl_int = CL_SUCCESS
        let kernel = lovasz_clCreateKernel(program.handle, name, &status)
        guard status == CL_SUCCESS, let kernel else {
            throw OpenCLError(
                clStatus: status == CL_SUCCESS ? CL_INVALID_KERNEL : status, call: "clCreateKernel",
                detail: "kernel \(name)")
        }
        self.program = program
        self.name = name
        self.handle = kernel
    }

    deinit { _ = lovasz_clReleaseKernel(handle) }

    /// Binds `buffer` to the `__global` (or `__constant`) pointer argument at `index`.
    ///
    /// The kernel keeps the buffer alive while it is bound.
    /// - Throws: ``OpenCLError`` from `clSetKernelArg` (`CL_INVALID_ARG_INDEX`, …).
    func setArgument(_ index: Int, buffer: CLBuffer) throws(OpenCLError) {
        var memory: cl_mem? = buffer.handle
        let status = lovasz_clSetKernelArg(handle, cl_uint(index), MemoryLayout<cl_mem?>.size, &memory)
        try checkCL(status, "clSetKernelArg(\(name), \(index))")
        boundBuffers[index] = buffer
    }

    /// Sets the scalar (or struct) argument at `index` to `value`, byte for byte.
    ///
    /// `T` must match the kernel's parameter type: `Int32` for `int`, `UInt32` for `uint`,
    /// `Float` for `float`, `UInt64` for `ulong` (a Swift `Int` is 8 bytes, not an OpenCL `int`).
    /// - Throws: ``OpenCLError`` from `clSetKernelArg` (`CL_INVALID_ARG_SIZE` for a size mismatch).
    func setArgument<T: BitwiseCopyable>(_ index: Int, value: T) throws(OpenCLError) {
        let status = withUnsafeBytes(of: value) { bytes in
            lovasz_clSetKernelArg(handle, cl_uint(index), bytes.count, bytes.baseAddress)
        }
        try checkCL(status, "clSetKernelArg(\(name), \(index))")
        boundBuffers[index] = nil
    }

    /// Gives the `__local` pointer argument at `index` a work-group allocation of `bytes`.
    ///
    /// - Parameter bytes: ≥ 1; the sum over local arguments (and the kernel's own local
    ///   memory) must fit ``OpenCLDevice/localMemoryBytes``.
    /// - Throws: ``OpenCLError`` from `clSetKernelArg`.
    func setLocalArgument(_ index: Int, bytes: Int) throws(OpenCLError) {
        try checkCL(lovasz_clSetKernelArg(handle, cl_uint(index), bytes, nil), "clSetKernelArg(\(name), \(index))")
        boundBuffers[index] = nil
    }

    /// The largest work-group this kernel can run with on its device (`CL_KERNEL_WORK_GROUP_SIZE`;
    /// at most the device's ``OpenCLDevice/maxWorkGroupSize``, less when it uses many registers).
    ///
    /// - Throws: ``OpenCLError`` from `clGetKernelWorkGroupInfo`.
    var maxWorkGroupSize: Int {
        get throws(OpenCLError) { try workGroupInfo(Int.self, CL_KERNEL_WORK_GROUP_SIZE, "CL_KERNEL_WORK_GROUP_SIZE") }
    }

    /// The work-group size multiple the device runs best with (the SIMD or warp width,
    /// `CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE`).
    ///
    /// - Throws: ``OpenCLError`` from `clGetKernelWorkGroupInfo`.
    var preferredWorkGroupSizeMultiple: Int {
        get throws(OpenCLError) {
            try workGroupInfo(Int.self, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, "CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE")
        }
    }

    /// Local memory the kernel itself uses per work-group, in bytes, including the `__local`
    /// arguments set so far (`CL_KERNEL_LOCAL_MEM_SIZE`).
    ///
    /// - Throws: ``OpenCLError`` from `clGetKernelWorkGroupInfo`.
    var localMemoryBytes: UInt64 {
        get throws(OpenCLError) { try workGroupInfo(cl_ulong.self, CL_KERNEL_LOCAL_MEM_SIZE, "CL_KERNEL_LOCAL_MEM_SIZE") }
    }

    private func workGroupInfo<T: BitwiseCopyable>(_ type: T.Type, _ parameter: Int32, _ parameterName: String) throws(OpenCLError) -> T {
        let device = program.context.deviceID
        return try queryInfoValue(T.self, "clGetKernelWorkGroupInfo(\(name), \(parameterName))") {
            lovasz_clGetKernelWorkGroupInfo(handle, device, cl_kernel_work_group_info(parameter), $0, $1, $2)
        }
    }
}
