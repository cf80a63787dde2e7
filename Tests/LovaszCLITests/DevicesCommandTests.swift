import Foundation
import LovaszTestSupport
import Testing

/// `lovasz devices`, run as a subprocess with the OpenCL environment varied.
@Suite struct DevicesCommandTests {
    static let poclInstalled = FileManager.default.fileExists(atPath: "/etc/OpenCL/vendors/pocl.icd")

    /// Runs `lovasz devices` and checks it ended normally with status 0.
    static func devices(_ arguments: [String] = [], environment: [String: String?] = [:]) throws -> CommandRunner.Outcome {
        let outcome = try CommandRunner().run(["devices"] + arguments, environment: environment)
        #expect(!outcome.killedBySignal)
        #expect(outcome.status == 0, "stderr: \(outcome.standardError)")
        return outcome
    }

    static func json(_ outcome: CommandRunner.Outcome) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func missingLibraryIsNamedWithTheDlopenError() throws {
        let outcome = try Self.devices(environment: ["LOVASZ_OPENCL_LIBRARY": "/nonexistent/libOpenCL.so.1"])
        let text = outcome.standardOutput
        #expect(text.contains("No OpenCL devices: the OpenCL library could not be loaded"))
        // glibc's dlerror text: "<path>: cannot open shared object file: No such file or directory".
        #expect(text.contains("/nonexistent/libOpenCL.so.1: cannot open shared object file"))
        #expect(text.contains("auto:             CPU path: the OpenCL library could not be loaded"))
        #expect(text.contains("--backend opencl: unavailable: the OpenCL library could not be loaded"))
        #expect(!text.contains("Platform 0"))
    }

    @Test func missingLibraryInJSON() throws {
        let object = try Self.json(Self.devices(["--json"], environment: ["LOVASZ_OPENCL_LIBRARY": "/nonexistent"]))
        #expect(object["library"] is NSNull)
        #expect((object["platforms"] as? [Any])?.isEmpty == true)
        let problem = try #require(object["problem"] as? String)
        #expect(problem.contains("/nonexistent: cannot open shared object file"))
        let auto = try #require(object["auto"] as? [String: Any])
        #expect(auto["backend"] as? String == "cpu")
        #expect(auto["device"] is NSNull)
        #expect(auto["reason"] as? String == problem)
        let opencl = try #require(object["opencl"] as? [String: Any])
        #expect(opencl["backend"] is NSNull)
        #expect(opencl["reason"] as? String == problem)
    }

    @Test(.enabled(if: DevicesCommandTests.poclInstalled, "needs the ICD loader and PoCL installed"))
    func emptyVendorFolderMeansNoPlatform() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("lovasz-no-vendors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment: [String: String?] = ["OCL_ICD_VENDORS": folder.path, "LOVASZ_OPENCL_LIBRARY": nil]

        let text = try Self.devices(environment: environment).standardOutput
        #expect(text.contains("No OpenCL devices: no OpenCL platform is installed"))
        #expect(text.contains("CL_PLATFORM_NOT_FOUND_KHR (-1001)"))
        #expect(text.contains("auto:             CPU path: no OpenCL platform is installed"))
        #expect(text.contains("--backend opencl: unavailable: no OpenCL platform is installed"))

        let object = try Self.json(Self.devices(["--json"], environment: environment))
        #expect(object["library"] as? String == "libOpenCL.so.1")
        #expect((object["problem"] as? String)?.contains("CL_PLATFORM_NOT_FOUND_KHR") == true)
    }

    @Test(.enabled(if: DevicesCommandTests.poclInstalled, "needs the ICD loader and PoCL installed"))
    func listsThePoCLDeviceAndTheChoices() throws {
        let clean: [String: String?] = ["LOVASZ_OPENCL_LIBRARY": nil, "OCL_ICD_VENDORS": nil, "LOVASZ_OPENCL_DEVICE": nil]
        let text = try Self.devices(environment: clean).standardOutput
        #expect(text.contains("OpenCL library: libOpenCL.so.1"))
        #expect(text.contains("Portable Computing Language"))
        for label in ["type", "OpenCL version", "compute units", "global memory", "max allocation",
                      "local memory", "max work-group size", "fp64", "fp32 correctly rounded divide/sqrt"] {
            #expect(text.contains("    \(label) "), "missing \(label)")
        }

        let object = try Self.json(Self.devices(["--json"], environment: clean))
        let platforms = try #require(object["platforms"] as? [[String: Any]])
        let pocl = try #require(platforms.first { $0["name"] as? String == "Portable Computing Language" })
        let devices = try #require(pocl["devices"] as? [[String: Any]])
        let device = try #require(devices.first)
        #expect(device["type"] as? String == "cpu")
        #expect((device["computeUnits"] as? Int ?? 0) >= 1)
        #expect((device["globalMemoryBytes"] as? Int ?? 0) >= (device["maxAllocationBytes"] as? Int ?? .max))
        #expect(device["fp64"] is Bool)
        #expect(device["correctlyRoundedDivideSqrt"] is Bool)

        // `opencl` always finds a device here; `auto` takes it only when it is not a CPU.
        let allDevices = platforms.flatMap { $0["devices"] as? [[String: Any]] ?? [] }
        let opencl = try #require(object["opencl"] as? [String: Any])
        #expect(opencl["backend"] as? String == "opencl")
        #expect(opencl["device"] is Int)
        let auto = try #require(object["auto"] as? [String: Any])
        if allDevices.allSatisfy({ $0["type"] as? String == "cpu" }) {
            #expect(auto["backend"] as? String == "cpu")
            #expect((auto["reason"] as? String)?.hasPrefix("only CPU OpenCL devices (") == true)
            #expect((auto["reason"] as? String)?.hasSuffix("the CPU path is faster") == true)
            #expect(text.contains("auto:             CPU path: only CPU OpenCL devices"))
        }
    }

    @Test(.enabled(if: DevicesCommandTests.poclInstalled, "needs the ICD loader and PoCL installed"))
    func deviceOverrideIsHonouredAndChecked() throws {
        let chosen = try Self.json(Self.devices(["--json"], environment: ["LOVASZ_OPENCL_DEVICE": "0"]))
        let auto = try #require(chosen["auto"] as? [String: Any])
        #expect(auto["backend"] as? String == "opencl")
        #expect(auto["device"] as? Int == 0)
        #expect((auto["reason"] as? String)?.hasPrefix("LOVASZ_OPENCL_DEVICE=0 selects ") == true)

        let text = try Self.devices(environment: ["LOVASZ_OPENCL_DEVICE": "99"]).standardOutput
        #expect(text.contains("--backend opencl: unavailable: LOVASZ_OPENCL_DEVICE=99 names no OpenCL device"))
    }

    /// The OpenCL library is loaded with dlopen at run time, never linked (docs/DESIGN.md §2).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ldd"), "needs ldd"))
    func lovaszDoesNotLinkOpenCL() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [CommandRunner.lovaszExecutable.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("libc.so"))
        #expect(!text.lowercased().contains("opencl"), "lovasz links OpenCL: \(text)")
    }

    @Test func helpNamesTheEnvironmentVariables() throws {
        let outcome = try CommandRunner().run(["devices", "--help"])
        #expect(outcome.status == 0)
        for variable in ["LOVASZ_OPENCL_LIBRARY", "LOVASZ_OPENCL_DEVICE", "OCL_ICD_VENDORS", "--json"] {
            #expect(outcome.standardOutput.contains(variable), "missing \(variable)")
        }
    }
}
