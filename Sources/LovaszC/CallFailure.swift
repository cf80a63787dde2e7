import CLovaszAPI
import Lovasz

/// Why a C call failed: its status code and a one-line message.
struct CallFailure: Error {
    /// `LOVASZ_ERROR_BAD_INPUT`, `LOVASZ_ERROR_OPENCL`, `LOVASZ_ERROR_OUT_OF_MEMORY` or
    /// `LOVASZ_ERROR_INTERNAL`.
    let status: Int32
    let message: String

    /// Bad input the C layer itself detected (a null pointer, a bad enum value or dimension).
    static func badInput(_ message: String) -> CallFailure {
        CallFailure(status: LOVASZ_ERROR_BAD_INPUT, message: message)
    }

    /// The status and message of an engine error: OpenCL problems are status 3, memory
    /// exhaustion 4, the rest 2.
    init(_ error: LovaszError) {
        switch error {
        case .openCLUnavailable, .openCL: status = LOVASZ_ERROR_OPENCL
        case .outOfMemory: status = LOVASZ_ERROR_OUT_OF_MEMORY
        default: status = LOVASZ_ERROR_BAD_INPUT
        }
        message = error.description
    }

    init(status: Int32, message: String) {
        self.status = status
        self.message = message
    }
}

/// Runs `body`, writes its failure's message (or `""`) into the caller's buffer and returns
/// the status: `LOVASZ_OK` on success.
func reportingStatus(
    into message: UnsafeMutablePointer<CChar>?, size: Int, _ body: () throws(CallFailure) -> Void
) -> Int32 {
    do {
        try body()
        _ = copyCString("", into: message, size: size)
        return LOVASZ_OK
    } catch {
        _ = copyCString(error.message, into: message, size: size)
        return error.status
    }
}

/// Copies `text` into a C buffer of `size` bytes as a NUL-terminated string, truncated at a
/// UTF-8 character boundary when it does not fit.
///
/// - Returns: the full length of `text` in bytes (without the NUL), as `snprintf` does.
func copyCString(_ text: String, into buffer: UnsafeMutablePointer<CChar>?, size: Int) -> Int {
    var bytes = Array(text.utf8)
    let length = bytes.count
    guard let buffer, size > 0 else { return length }
    if bytes.count > size - 1 {
        var cut = size - 1
        // Back up over continuation bytes (10xxxxxx) so no character is split.
        while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        bytes.removeSubrange(cut...)
    }
    bytes.withUnsafeBufferPointer { source in
        for (i, byte) in source.enumerated() { buffer[i] = CChar(bitPattern: byte) }
    }
    buffer[bytes.count] = 0
    return length
}
