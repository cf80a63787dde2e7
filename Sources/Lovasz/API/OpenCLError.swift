/// A failed OpenCL call: its status code, the call, and the build log for build failures.
public struct OpenCLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `cl_int` status the call returned (for example -5, `CL_OUT_OF_RESOURCES`).
    public var status: Int32
    /// The OpenCL function (or step) that failed, for example `clBuildProgram`.
    public var call: String
    /// The compiler's build log, for program build failures.
    public var buildLog: String?
    /// Further detail, for example a loader error.
    public var detail: String?

    public init(status: Int32, call: String, buildLog: String? = nil, detail: String? = nil) {
        self.status = status
        self.call = call
        self.buildLog = buildLog
        self.detail = detail
    }

    /// The symbolic name of ``status`` (`CL_OUT_OF_RESOURCES`), or the number.
    public var statusName: String { OpenCLStatus.name(of: status) }

    public var description: String {
        var text = "\(call) failed with \(statusName) (\(status))"
        if let detail, !detail.isEmpty { text += ": \(detail)" }
        if let buildLog, !buildLog.isEmpty {
            let firstLine = buildLog.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            text += "; build log: \(firstLine)"
        }
        return text
    }
}

/// Names of OpenCL status codes.
enum OpenCLStatus {
    static func name(of status: Int32) -> String {
        switch status {
        case 0: return "CL_SUCCESS"
        case -1: return "CL_DEVICE_NOT_FOUND"
        case -2: return "CL_DEVICE_NOT_AVAILABLE"
        case -3: return "CL_COMPILER_NOT_AVAILABLE"
        case -4: return "CL_MEM_OBJECT_ALLOCATION_FAILURE"
        case -5: return "CL_OUT_OF_RESOURCES"
        case -6: return "CL_OUT_OF_HOST_MEMORY"
        case -11: return "CL_BUILD_PROGRAM_FAILURE"
        case -30: return "CL_INVALID_VALUE"
        case -32: return "CL_INVALID_PLATFORM"
        case -33: return "CL_INVALID_DEVICE"
        case -34: return "CL_INVALID_CONTEXT"
        case -36: return "CL_INVALID_COMMAND_QUEUE"
        case -38: return "CL_INVALID_MEM_OBJECT"
        case -43: return "CL_INVALID_BUILD_OPTIONS"
        case -44: return "CL_INVALID_PROGRAM"
        case -45: return "CL_INVALID_PROGRAM_EXECUTABLE"
        case -46: return "CL_INVALID_KERNEL_NAME"
        case -48: return "CL_INVALID_KERNEL"
        case -49: return "CL_INVALID_ARG_INDEX"
        case -50: return "CL_INVALID_ARG_VALUE"
        case -51: return "CL_INVALID_ARG_SIZE"
        case -52: return "CL_INVALID_KERNEL_ARGS"
        case -54: return "CL_INVALID_WORK_GROUP_SIZE"
        case -55: return "CL_INVALID_WORK_ITEM_SIZE"
        case -61: return "CL_INVALID_BUFFER_SIZE"
        case -1001: return "CL_PLATFORM_NOT_FOUND_KHR"
        default: return "CL error"
        }
    }
}
