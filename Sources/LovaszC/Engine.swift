import CLovaszAPI
import Lovasz

// The engine handles of lovasz.h: a `lovasz_engine *` is a retained `LovaszEngine`.

/// The engine behind a handle, without taking ownership.
func engine(from handle: OpaquePointer?) -> LovaszEngine? {
    guard let handle else { return nil }
    return Unmanaged<LovaszEngine>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

@_cdecl("lovasz_api_version")
public func lovaszAPIVersion() -> Int32 { LOVASZ_API_VERSION }

@_cdecl("lovasz_engine_create")
public func lovaszEngineCreate(
    _ backend: Int32,
    _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ message: UnsafeMutablePointer<CChar>?,
    _ messageSize: Int
) -> Int32 {
    lovaszEngineCreateOnDevice(backend, -1, out, message, messageSize)
}

@_cdecl("lovasz_engine_create_on_device")
public func lovaszEngineCreateOnDevice(
    _ backend: Int32,
    _ device: Int32,
    _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ message: UnsafeMutablePointer<CChar>?,
    _ messageSize: Int
) -> Int32 {
    out?.pointee = nil
    return reportingStatus(into: message, size: messageSize) { () throws(CallFailure) in
        guard let out else { throw .badInput("the engine out-pointer is NULL") }
        guard device >= -1 else { throw .badInput("invalid device \(device); expected -1 (automatic) or an index of `lovasz devices`") }
        let choice: BackendChoice
        switch backend {
        case LOVASZ_BACKEND_AUTO: choice = .auto
        case LOVASZ_BACKEND_CPU: choice = .cpu
        case LOVASZ_BACKEND_OPENCL: choice = .opencl
        default: throw .badInput("unknown backend \(backend); expected 0 (auto), 1 (cpu) or 2 (opencl)")
        }
        let engine: LovaszEngine
        do throws(LovaszError) { engine = try LovaszEngine(backend: choice, device: device < 0 ? nil : Int(device)) } catch { throw CallFailure(error) }
        out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
    }
}

@_cdecl("lovasz_engine_destroy")
public func lovaszEngineDestroy(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<LovaszEngine>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("lovasz_engine_backend")
public func lovaszEngineBackend(_ handle: OpaquePointer?) -> Int32 {
    guard let engine = engine(from: handle) else { return -1 }
    switch engine.backend {
    case .cpu: return LOVASZ_BACKEND_CPU
    case .opencl: return LOVASZ_BACKEND_OPENCL
    }
}

@_cdecl("lovasz_engine_device")
public func lovaszEngineDevice(_ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
    copyCString(engine(from: handle)?.device ?? "", into: buffer, size: size)
}

@_cdecl("lovasz_engine_fallback_reason")
public func lovaszEngineFallbackReason(
    _ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int
) -> Int {
    copyCString(engine(from: handle)?.fallbackReason ?? "", into: buffer, size: size)
}
