internal import CLovaszOpenCL

/// An OpenCL program built from source for its context's device; released when the last
/// reference goes.
///
/// Immutable once built and safe to share between threads (kernels made from it are not).
// @unchecked Sendable: the handle never changes after the build, and clCreateKernel and the
// other program calls are thread-safe (OpenCL 1.2 §A.2).
final class CLProgram: @unchecked Sendable {
    /// The context the program belongs to (kept alive by the program).
    let context: CLContext
    let handle: cl_program
    /// The build options it was built with.
    let options: String
    /// The compiler's log of the successful build (warnings; often empty).
    let buildLog: String

    /// Compiles and links `source` for the context's device.
    ///
    /// - Parameters:
    ///   - source: OpenCL C source.
    ///   - options: `clBuildProgram` options, for example `-cl-std=CL1.2 -DBLOCK=256`.
    /// - Throws: ``OpenCLError`` with call `clBuildProgram` and the compiler's
    ///   ``OpenCLError/buildLog`` when the source does not compile (`CL_BUILD_PROGRAM_FAILURE`)
    ///   or the options are invalid (`CL_INVALID_BUILD_OPTIONS`); errors from
    ///   `clCreateProgramWithSource` otherwise.
    init(context: CLContext, source: String, options: String = "") throws(OpenCLError) {
        var status: cl_int = CL_SUCCESS
        let created: cl_program? = source.withCString { text in
            var strings: [UnsafePointer<CChar>?] = [text]
            return lovasz_clCreateProgramWithSource(context.handle, 1, &strings, nil, &status)
        }
        guard status == CL_SUCCESS, let program = created else {
            throw OpenCLError(
                clStatus: status == CL_SUCCESS ? CL_INVALID_PROGRAM : status, call: "clCreateProgramWithSource")
        }
        var device: cl_device_id? = context.deviceID
        let buildStatus = options.withCString { lovasz_clBuildProgram(program, 1, &device, $0, nil, nil) }
        let log = (try? queryInfoString("clGetProgramBuildInfo(CL_PROGRAM_BUILD_LOG)") {
            lovasz_clGetProgramBuildInfo(program, context.deviceID, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
        }) ?? ""
        guard buildStatus == CL_SUCCESS else {
            _ = lovasz_clReleaseProgram(program)
            throw OpenCLError(
                status: buildStatus, call: "clBuildProgram", buildLog: log,
                detail: options.isEmpty ? nil : "options: \(options)")
        }
        self.context = context
        self.handle = program
        self.options = options
        self.buildLog = log
    }

    deinit { _ = lovasz_clReleaseProgram(handle) }

    /// A new kernel object for the `__kernel` function `name`.
    ///
    /// - Throws: ``OpenCLError`` from `clCreateKernel` (`CL_INVALID_KERNEL_NAME` when there is
    ///   no such kernel).
    func makeKernel(_ name: String) throws(OpenCLError) -> CLKernel {
        try CLKernel(program: self, name: name)
    }
}
