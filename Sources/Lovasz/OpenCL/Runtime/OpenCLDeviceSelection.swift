#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The OpenCL device a backend choice leads to, or none, and why (DESIGN §5).
public struct OpenCLDeviceSelection: Sendable, Hashable {
    /// The device to compute on, or `nil` for the CPU path (`auto`) or an error (`opencl`).
    public let device: OpenCLDevice?
    /// Why this device was chosen, or why none was: one line for a person.
    public let reason: String
}

extension OpenCLDiscovery {
    /// The environment variable that overrides the pick with a device index from
    /// `lovasz devices` (for both `auto` and `opencl`).
    public static let deviceOverrideVariable = "LOVASZ_OPENCL_DEVICE"

    /// The value of `LOVASZ_OPENCL_DEVICE` in this process's environment, if set and not empty.
    public static var deviceOverride: String? {
        guard let value = getenv(deviceOverrideVariable) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// Picks the device for a backend choice (a pure function of the discovery and `override`).
    ///
    /// - `cpu`: no device.
    /// - `auto`: the best GPU, else the best accelerator; when the only devices are CPUs, no
    ///   device (the CPU path is faster than OpenCL on the same processor).
    /// - `opencl`: the best GPU, else accelerator, else any other device (PoCL's CPU device).
    ///
    /// Among devices of one kind, a discrete device (no host-unified memory) wins, then the
    /// larger global memory, then the lower index. Devices that are not available or have no
    /// compiler are skipped.
    ///
    /// - Parameter override: a device index from ``devices`` (`LOVASZ_OPENCL_DEVICE`); when
    ///   given, that device is used for `auto` and `opencl` whatever its kind, and an index
    ///   that names no usable device selects none, with the reason.
    /// - Returns: the device or `nil`, and the reason in one line. With `nil` the caller
    ///   falls back to the CPU (`auto`) or reports the reason as an error (`opencl`).
    public func selectDevice(
        for choice: BackendChoice, override: String? = OpenCLDiscovery.deviceOverride
    ) -> OpenCLDeviceSelection {
        if choice == .cpu { return OpenCLDeviceSelection(device: nil, reason: "the CPU backend was asked for") }
        return selectDevice(for: choice, override: override, naming: Self.deviceOverrideVariable + "=")
    }

    /// Picks the device with index `index` of ``devices`` (as `lovasz devices` prints them),
    /// whatever its kind; `LOVASZ_OPENCL_DEVICE` is not read.
    ///
    /// - Returns: that device, or `nil` with the reason when it does not exist or is unusable.
    public func selectDevice(index: Int) -> OpenCLDeviceSelection {
        selectDevice(for: .opencl, override: String(index), naming: "OpenCL device ")
    }

    private func selectDevice(
        for choice: BackendChoice, override: String?, naming label: String
    ) -> OpenCLDeviceSelection {
        if let failure { return OpenCLDeviceSelection(device: nil, reason: failure.description) }
        let devices = self.devices
        if devices.isEmpty {
            let names = platforms.map(\.name).joined(separator: ", ")
            var reason = "the OpenCL platform\(platforms.count == 1 ? "" : "s") (\(names)) expose\(platforms.count == 1 ? "s" : "") no device"
            let problems = platforms.compactMap(\.problem)
            if !problems.isEmpty { reason += ": " + problems.joined(separator: "; ") }
            return OpenCLDeviceSelection(device: nil, reason: reason)
        }
        if let override { return select(override: override, in: devices, naming: label) }

        let usable = devices.filter(\.isUsable)
        if usable.isEmpty {
            let names = devices.map(\.description).joined(separator: ", ")
            return OpenCLDeviceSelection(
                device: nil, reason: "no usable OpenCL device: \(names) \(devices.count == 1 ? "is" : "are") not available or \(devices.count == 1 ? "has" : "have") no compiler")
        }
        if let gpu = Self.best(of: usable, kind: .gpu) {
            return OpenCLDeviceSelection(device: gpu, reason: "the GPU \(gpu) is preferred")
        }
        if let accelerator = Self.best(of: usable, kind: .accelerator) {
            return OpenCLDeviceSelection(device: accelerator, reason: "no GPU; the accelerator \(accelerator) is used")
        }
        let names = usable.map(\.description).joined(separator: ", ")
        switch choice {
        case .auto:
            if usable.allSatisfy({ $0.kind == .cpu }) {
                return OpenCLDeviceSelection(
                    device: nil, reason: "only CPU OpenCL devices (\(names)); the CPU path is faster")
            }
            return OpenCLDeviceSelection(
                device: nil, reason: "no GPU or accelerator among the OpenCL devices (\(names)); the CPU path is used")
        case .opencl, .cpu:
            let device = Self.best(of: usable, kind: .cpu) ?? Self.best(of: usable, kind: .other) ?? usable[0]
            return OpenCLDeviceSelection(
                device: device, reason: "no GPU or accelerator; the \(device.kind == .cpu ? "CPU " : "")device \(device) is used")
        }
    }

    private func select(override: String, in devices: [OpenCLDevice], naming label: String) -> OpenCLDeviceSelection {
        guard let index = Int(trimmedWhitespace(override)), devices.indices.contains(index) else {
            let range = devices.count == 1 ? "the only device is 0" : "devices are 0...\(devices.count - 1)"
            return OpenCLDeviceSelection(
                device: nil, reason: "\(label)\(override) names no OpenCL device (\(range); see `lovasz devices`)")
        }
        let device = devices[index]
        guard device.isUsable else {
            return OpenCLDeviceSelection(
                device: nil, reason: "\(label)\(index) names \(device), which is not available or has no compiler")
        }
        return OpenCLDeviceSelection(device: device, reason: "\(label)\(index) selects \(device)")
    }

    /// The preferred device of `kind`: discrete first, then the most global memory, then the lowest index.
    private static func best(of devices: [OpenCLDevice], kind: OpenCLDeviceKind) -> OpenCLDevice? {
        devices.filter { $0.kind == kind }.min { a, b in
            if a.hostUnifiedMemory != b.hostUnifiedMemory { return !a.hostUnifiedMemory }
            if a.globalMemoryBytes != b.globalMemoryBytes { return a.globalMemoryBytes > b.globalMemoryBytes }
            return a.index < b.index
        }
    }
}
