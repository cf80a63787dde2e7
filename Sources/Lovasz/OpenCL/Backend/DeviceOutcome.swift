/// The loss of a call planned on the device, with the plan's counts for ``LossResult``.
struct PlannedLoss: Sendable {
    var loss: Double
    var plan: SegmentPlan
}

/// A device call's loss and, when asked for, its completion event (a retained `cl_event`,
/// as an address so that the value stays `Sendable`).
struct DeviceOutcome: Sendable {
    var loss: PlannedLoss
    var event: UInt?
    /// The device time of each phase, when the call was profiled.
    var phases: PhaseTimes?
}

/// Runs `body`, turning its ``OpenCLError`` into ``LovaszError/openCL(_:)``.
@inline(__always)
func mappingOpenCLErrors<R>(_ body: () throws(OpenCLError) -> R) throws(LovaszError) -> R {
    do throws(OpenCLError) { return try body() } catch { throw .openCL(error) }
}
