import ArgumentParser
import Lovasz

/// The backends `lovasz bench --backend` can time.
enum BenchBackendSelection: String, ExpressibleByArgument, CaseIterable {
    /// The CPU path.
    case cpu
    /// Any OpenCL device, PoCL's CPU device included.
    case opencl
    /// What `LovaszEngine(backend: .auto)` picks: a GPU through OpenCL, else the CPU.
    case auto
    /// The CPU, and OpenCL when `auto` would use it (a GPU).
    case all
}

/// The engine choices to time, and the backends that were asked for and cannot run.
struct BenchBackendPlan {
    var choices: [BackendChoice] = []
    var skipped: [BenchSkip] = []

    /// Probes OpenCL as needed and plans the measurements.
    ///
    /// - Throws: ``CommandFailure`` with status 3 when `opencl` was asked for and cannot be
    ///   used; with `all` an unusable OpenCL is skipped instead.
    init(_ selection: BenchBackendSelection, threads: Int?) throws(CommandFailure) {
        switch selection {
        case .cpu:
            choices = [.cpu]
        case .opencl:
            do {
                _ = try LovaszEngine(backend: .opencl, threads: threads)
            } catch {
                throw CommandFailure(status: ExitStatus.openCLUnavailable, message: error.description)
            }
            choices = [.opencl]
        case .auto:
            choices = [.auto]
            if let engine = try? LovaszEngine(backend: .auto, threads: threads), let reason = engine.fallbackReason {
                StandardError.print("lovasz bench: auto uses the CPU: \(reason)")
            }
        case .all:
            choices = [.cpu]
            do {
                let engine = try LovaszEngine(backend: .auto, threads: threads)
                if engine.backend == .opencl {
                    choices.append(.auto)
                } else {
                    let reason = engine.fallbackReason ?? "auto does not use OpenCL"
                    skipped.append(BenchSkip(
                        backend: "opencl",
                        reason: "\(reason) (--backend opencl times any OpenCL device, PoCL's CPU device included)"))
                }
            } catch {
                skipped.append(BenchSkip(backend: "opencl", reason: error.description))
            }
        }
    }
}
