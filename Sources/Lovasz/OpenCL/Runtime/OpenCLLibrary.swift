internal import CLovaszOpenCL

/// The OpenCL library, loaded at run time by the C shim (never linked).
///
/// The shim loads `$LOVASZ_OPENCL_LIBRARY` when that variable is set, otherwise
/// `libOpenCL.so.1`, then `libOpenCL.so`; once per process, thread-safe.
enum OpenCLLibrary {
    /// The status every shim wrapper returns when the library is not loaded.
    static let notLoadedStatus = Int32(LOVASZ_CL_LIBRARY_NOT_LOADED)

    /// The environment variable naming another library path to load.
    static let pathVariable = "LOVASZ_OPENCL_LIBRARY"

    /// Whether the library is loaded (loads it on first use).
    static var isLoaded: Bool { lovasz_cl_load() != 0 }

    /// The name or path the library was loaded from, or `nil` when it could not be loaded.
    static var loadedName: String? { lovasz_cl_library_name().map { String(cString: $0) } }

    /// Why the library could not be loaded (the `dlerror` text), or `nil` once loaded.
    static var loadError: String? { lovasz_cl_load_error().map { String(cString: $0) } }

    /// Loads the library.
    ///
    /// - Throws: ``OpenCLError`` with call `dlopen`, status ``notLoadedStatus`` and the
    ///   `dlerror` text as detail.
    static func load() throws(OpenCLError) {
        guard isLoaded else {
            throw OpenCLError(status: notLoadedStatus, call: "dlopen", detail: loadError)
        }
    }
}

/// Throws an ``OpenCLError`` naming `call` unless `status` is `CL_SUCCESS`.
///
/// A status of ``OpenCLLibrary/notLoadedStatus`` carries the loader's error as detail.
@inline(__always)
func checkCL(_ status: Int32, _ call: @autoclosure () -> String) throws(OpenCLError) {
    guard status == CL_SUCCESS else { throw OpenCLError(clStatus: status, call: call()) }
}

extension OpenCLError {
    /// An error for a failed call, with the loader's error as detail when the library is missing.
    init(clStatus status: Int32, call: String, detail: String? = nil) {
        let loaderDetail = status == OpenCLLibrary.notLoadedStatus ? OpenCLLibrary.loadError : nil
        self.init(status: status, call: call, detail: detail ?? loaderDetail)
    }
}

/// Reads a variable-length OpenCL info parameter (`clGet*Info`) into bytes.
///
/// - Parameter query: calls the info function with (size, destination, size out).
func queryInfoBytes(
    _ call: @autoclosure () -> String,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> Int32
) throws(OpenCLError) -> [UInt8] {
    var size = 0
    try checkCL(query(0, nil, &size), call())
    guard size > 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: size)
    let status = bytes.withUnsafeMutableBytes { query(size, $0.baseAddress, nil) }
    try checkCL(status, call())
    return bytes
}

/// Reads an OpenCL string info parameter, without its terminating NUL and surrounding spaces.
func queryInfoString(
    _ call: @autoclosure () -> String,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> Int32
) throws(OpenCLError) -> String {
    var bytes = try queryInfoBytes(call(), query)
    while let last = bytes.last, last == 0 { bytes.removeLast() }
    return trimmedWhitespace(String(decoding: bytes, as: UTF8.self))
}

/// Reads a fixed-size OpenCL info parameter of type `T`.
func queryInfoValue<T: BitwiseCopyable>(
    _ type: T.Type,
    _ call: @autoclosure () -> String,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> Int32
) throws(OpenCLError) -> T {
    var value = zeroedValue(T.self)
    let status = withUnsafeMutableBytes(of: &value) { query(MemoryLayout<T>.size, $0.baseAddress, nil) }
    try checkCL(status, call())
    return value
}

/// A zero-filled value of a bitwise-copyable type.
@inline(__always)
private func zeroedValue<T: BitwiseCopyable>(_ type: T.Type) -> T {
    withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        return raw.load(as: T.self)
    }
}

/// `text` without leading and trailing white space.
func trimmedWhitespace(_ text: String) -> String {
    guard let first = text.firstIndex(where: { !$0.isWhitespace }),
          let last = text.lastIndex(where: { !$0.isWhitespace })
    else { return "" }
    return String(text[first...last])
}
