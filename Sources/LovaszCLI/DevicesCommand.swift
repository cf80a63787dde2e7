import ArgumentParser
import Foundation
import Lovasz

/// `lovasz devices`: the OpenCL platforms and devices this host has, and which one each
/// backend choice would use, and why (docs/DESIGN.md §4, §5).
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the OpenCL platforms and devices, and which one `auto` and `opencl` would use.",
        discussion: """
            Lists every OpenCL platform and device with its type, versions, compute units, \
            memory sizes, work-group limit, double-precision support and whether float divide \
            and square root can be correctly rounded. Then says which device `--backend auto` \
            picks (a GPU, then an accelerator; with only CPU devices, the CPU path) and which \
            `--backend opencl` would use (also a CPU device, such as PoCL's), and why.

            Exits with status 0 even when there is no OpenCL at all, and says why.

            Environment:
              LOVASZ_OPENCL_LIBRARY  OpenCL library to load (default libOpenCL.so.1)
              LOVASZ_OPENCL_DEVICE   index of the device to use, as listed here
              OCL_ICD_VENDORS        ICD driver folder (default /etc/OpenCL/vendors)
            """)

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let discovery = OpenCLDiscovery.discover()
        let report = DevicesReport(
            discovery: discovery,
            auto: discovery.selectDevice(for: .auto),
            opencl: discovery.selectDevice(for: .opencl))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(report)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text, terminator: "")
        }
    }
}

/// What `lovasz devices` reports, as text or JSON.
struct DevicesReport: Encodable {
    let discovery: OpenCLDiscovery
    let auto: OpenCLDeviceSelection
    let opencl: OpenCLDeviceSelection

    var text: String {
        var lines: [String] = []
        if let library = discovery.libraryName { lines.append("OpenCL library: \(library)") }
        if let failure = discovery.failure {
            lines.append("No OpenCL devices: \(failure)")
        }
        for platform in discovery.platforms {
            lines.append("Platform \(platform.index): \(platform.name) (\(platform.vendor)), \(platform.version)")
            if platform.devices.isEmpty { lines.append("  no devices") }
            if let problem = platform.problem { lines.append("  problem: \(problem)") }
            for device in platform.devices {
                lines.append("  Device \(device.index): \(device.name)")
                for (label, value) in Self.properties(of: device) {
                    lines.append("    " + label.padding(toLength: 36, withPad: " ", startingAt: 0) + value)
                }
            }
        }
        lines.append("")
        let autoChoice = auto.device.map { "OpenCL device \($0.index)" } ?? "CPU path"
        lines.append("auto:             \(autoChoice): \(auto.reason)")
        let openclChoice = opencl.device.map { "device \($0.index)" } ?? "unavailable"
        lines.append("--backend opencl: \(openclChoice): \(opencl.reason)")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func properties(of device: OpenCLDevice) -> [(String, String)] {
        [
            ("type", device.kind.rawValue),
            ("vendor", device.vendor),
            ("OpenCL version", device.version),
            ("OpenCL C version", device.openCLCVersion),
            ("driver version", device.driverVersion),
            ("compute units", "\(device.computeUnits)"),
            ("global memory", bytes(device.globalMemoryBytes)),
            ("max allocation", bytes(device.maxAllocationBytes)),
            ("local memory", bytes(device.localMemoryBytes)),
            ("max work-group size", "\(device.maxWorkGroupSize)"),
            ("fp64", device.supportsDouble ? "yes" : "no"),
            ("fp32 correctly rounded divide/sqrt", device.correctlyRoundedDivideSqrt ? "yes" : "no"),
            ("unified host memory", device.hostUnifiedMemory ? "yes" : "no"),
            ("usable", device.isUsable ? "yes" : "no (not available, or no compiler)"),
        ]
    }

    /// `"8 GiB (8589934592 bytes)"`.
    private static func bytes(_ count: UInt64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(count) bytes" }
        let rounded = value.rounded() == value ? String(Int(value)) : String(format: "%.1f", value)
        return "\(rounded) \(units[unit]) (\(count) bytes)"
    }

    // MARK: JSON

    private enum Keys: String, CodingKey {
        case library, problem, platforms, auto, opencl
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(discovery.libraryName, forKey: .library)
        try container.encode(discovery.failure?.description, forKey: .problem)
        try container.encode(discovery.platforms.map(PlatformJSON.init), forKey: .platforms)
        try container.encode(SelectionJSON(auto, backendWhenNone: "cpu"), forKey: .auto)
        try container.encode(SelectionJSON(opencl, backendWhenNone: nil), forKey: .opencl)
    }

    private struct PlatformJSON: Encodable {
        let index: Int
        let name: String
        let vendor: String
        let version: String
        let problem: String?
        let devices: [DeviceJSON]

        init(_ platform: OpenCLPlatform) {
            index = platform.index
            name = platform.name
            vendor = platform.vendor
            version = platform.version
            problem = platform.problem
            devices = platform.devices.map(DeviceJSON.init)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(name, forKey: .name)
            try container.encode(vendor, forKey: .vendor)
            try container.encode(version, forKey: .version)
            try container.encode(problem, forKey: .problem)  // null when none
            try container.encode(devices, forKey: .devices)
        }

        private enum CodingKeys: String, CodingKey { case index, name, vendor, version, problem, devices }
    }

    private struct DeviceJSON: Encodable {
        let index: Int
        let name: String
        let vendor: String
        let type: String
        let version: String
        let openCLCVersion: String
        let driverVersion: String
        let computeUnits: Int
        let globalMemoryBytes: UInt64
        let maxAllocationBytes: UInt64
        let localMemoryBytes: UInt64
        let maxWorkGroupSize: Int
        let maxWorkItemSizes: [Int]
        let fp64: Bool
        let correctlyRoundedDivideSqrt: Bool
        let hostUnifiedMemory: Bool
        let usable: Bool
        let extensions: [String]

        init(_ device: OpenCLDevice) {
            index = device.index
            name = device.name
            vendor = device.vendor
            type = device.kind.rawValue
            version = device.version
            openCLCVersion = device.openCLCVersion
            driverVersion = device.driverVersion
            computeUnits = device.computeUnits
            globalMemoryBytes = device.globalMemoryBytes
            maxAllocationBytes = device.maxAllocationBytes
            localMemoryBytes = device.localMemoryBytes
            maxWorkGroupSize = device.maxWorkGroupSize
            maxWorkItemSizes = device.maxWorkItemSizes
            fp64 = device.supportsDouble
            correctlyRoundedDivideSqrt = device.correctlyRoundedDivideSqrt
            hostUnifiedMemory = device.hostUnifiedMemory
            usable = device.isUsable
            extensions = device.extensions
        }
    }

    /// `{"backend": "opencl"|"cpu"|null, "device": index|null, "name": …|null, "reason": …}`.
    private struct SelectionJSON: Encodable {
        let backend: String?
        let device: Int?
        let name: String?
        let reason: String

        init(_ selection: OpenCLDeviceSelection, backendWhenNone: String?) {
            backend = selection.device == nil ? backendWhenNone : "opencl"
            device = selection.device?.index
            name = selection.device?.name
            reason = selection.reason
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(backend, forKey: .backend)
            try container.encode(device, forKey: .device)
            try container.encode(name, forKey: .name)
            try container.encode(reason, forKey: .reason)
        }

        private enum CodingKeys: String, CodingKey { case backend, device, name, reason }
    }
}
