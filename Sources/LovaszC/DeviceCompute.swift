public import CLovaszAPI
import Lovasz

// Zero-copy from OpenCL code: engines on a caller's queue, losses on its device buffers.

@_cdecl("lovasz_engine_create_opencl")
public func lovaszEngineCreateOpenCL(
    _ commandQueue: UnsafeMutableRawPointer?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ message: UnsafeMutablePointer<CChar>?,
    _ messageSize: Int
) -> Int32 {
    out?.pointee = nil
    return reportingStatus(into: message, size: messageSize) { () throws(CallFailure) in
        guard let out else { throw .badInput("the engine out-pointer is NULL") }
        let engine: LovaszEngine
        do throws(LovaszError) {
            engine = try LovaszEngine(openCLQueue: commandQueue.map(OpaquePointer.init))
        } catch {
            throw CallFailure(error)
        }
        out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
    }
}

@_cdecl("lovasz_compute_device")
public func lovaszComputeDevice(
    _ handle: OpaquePointer?,
    _ loss: Int32,
    _ scores: UnsafeMutableRawPointer?, _ scoresOffset: Int,
    _ shape: UnsafePointer<Int64>?, _ rank: Int32,
    _ labels: UnsafeMutableRawPointer?, _ labelsOffset: Int, _ labelType: Int32,
    _ options: UnsafePointer<lovasz_options>?,
    _ gradient: UnsafeMutableRawPointer?, _ gradientOffset: Int,
    _ waitCount: UInt32, _ waitEvents: UnsafePointer<UnsafeMutableRawPointer?>?,
    _ completionEvent: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ lossOut: UnsafeMutablePointer<Double>?,
    _ message: UnsafeMutablePointer<CChar>?,
    _ messageSize: Int
) -> Int32 {
    lovaszComputeDeviceTyped(
        handle, loss, scores, scoresOffset, LOVASZ_SCORES_FLOAT32, shape, rank, labels, labelsOffset, labelType, options,
        gradient, gradientOffset, 0, waitCount, waitEvents, completionEvent, lossOut, message, messageSize)
}

@_cdecl("lovasz_compute_device_typed")
public func lovaszComputeDeviceTyped(
    _ handle: OpaquePointer?,
    _ loss: Int32,
    _ scores: UnsafeMutableRawPointer?, _ scoresOffset: Int, _ scoreType: Int32,
    _ shape: UnsafePointer<Int64>?, _ rank: Int32,
    _ labels: UnsafeMutableRawPointer?, _ labelsOffset: Int, _ labelType: Int32,
    _ options: UnsafePointer<lovasz_options>?,
    _ gradient: UnsafeMutableRawPointer?, _ gradientOffset: Int, _ gradientInScoreType: Int32,
    _ waitCount: UInt32, _ waitEvents: UnsafePointer<UnsafeMutableRawPointer?>?,
    _ completionEvent: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ lossOut: UnsafeMutablePointer<Double>?,
    _ message: UnsafeMutablePointer<CChar>?,
    _ messageSize: Int
) -> Int32 {
    completionEvent?.pointee = nil
    return reportingStatus(into: message, size: messageSize) { () throws(CallFailure) in
        guard let engine = engine(from: handle) else { throw .badInput("the engine is NULL") }
        let kind = try lossKind(loss)
        let dimensions = try dimensions(shape, rank: rank)
        let counts = try elementCounts(dimensions, loss: kind)
        let lossOptions = try (options?.pointee ?? .defaults).lossOptions(for: kind)
        let scoreElement: DeviceElementType
        switch scoreType {
        case LOVASZ_SCORES_FLOAT32: scoreElement = .float32
        case LOVASZ_SCORES_FLOAT16: scoreElement = .float16
        case LOVASZ_SCORES_BFLOAT16: scoreElement = .bfloat16
        default: throw .badInput("unknown score_type \(scoreType); expected 0 (float32), 1 (float16) or 2 (bfloat16)")
        }
        let labelElement: DeviceElementType
        switch labelType {
        case LOVASZ_LABELS_INT32: labelElement = .int32
        case LOVASZ_LABELS_INT64: labelElement = .int64
        case LOVASZ_LABELS_UINT8: labelElement = .uint8
        default: throw .badInput("unknown label_type \(labelType); expected 0 (int32), 1 (int64) or 2 (uint8)")
        }
        guard waitCount == 0 || waitEvents != nil else { throw .badInput("wait_events is NULL with num_wait_events \(waitCount)") }
        let events = (0..<Int(waitCount)).map { waitEvents![$0].map(OpaquePointer.init) }
        let gradientElement: DeviceElementType = gradientInScoreType != 0 ? scoreElement : .float32
        do throws(LovaszError) {
            let (result, event) = try engine.compute(
                scores: OpenCLDeviceBuffer(
                    memory: scores.map(OpaquePointer.init), byteOffset: scoresOffset, count: counts.scores,
                    elementType: scoreElement),
                shape: dimensions,
                labels: OpenCLDeviceBuffer(
                    memory: labels.map(OpaquePointer.init), byteOffset: labelsOffset, count: counts.labels,
                    elementType: labelElement),
                options: lossOptions,
                gradient: gradient.map {
                    OpenCLDeviceBuffer(
                        memory: OpaquePointer($0), byteOffset: gradientOffset, count: counts.scores, elementType: gradientElement)
                },
                waitFor: events, returnEvent: completionEvent != nil)
            lossOut?.pointee = result.loss
            completionEvent?.pointee = event.map { UnsafeMutableRawPointer($0) }
        } catch {
            throw CallFailure(error)
        }
    }
}
