import LovaszTestSupport
import Testing
@testable import Lovasz

/// OpenCL against the CPU path on the shared catalog of random problems (ignored pixels,
/// absent classes, one-pixel groups, all-ignored images, ties, 1 to 37 classes, 3-D volumes)
/// with every option variant: loss to 1e-5 relative, gradients to 1e-6 absolute, element by
/// element (docs/DESIGN.md §6).
@Suite("OpenCL equals the CPU path on the random catalog", .enabled(if: openCLEngine != nil, "no OpenCL device on this host"))
struct CatalogEquivalenceTests {
    /// The engine with the kernels' GPU forms (one pixel or rank per work-item, a work-group
    /// per radix tile) on the test device, whatever its kind: PoCL's CPU device takes the CPU
    /// forms by itself, so CI runs both.
    static let gpuFormsEngine: LovaszEngine? = {
        guard let device = OpenCLDiscovery.system.selectDevice(for: .opencl).device else { return nil }
        guard let backend = try? OpenCLBackend(device: device, formsFor: .gpu) else { return nil }
        return try? LovaszEngine(openCL: backend)
    }()

    @Test(arguments: RandomProblems.all, [false, true])
    func everyOptionVariant(_ recipe: RandomRecipe, gpuForms: Bool) throws {
        let engine = try #require(gpuForms ? Self.gpuFormsEngine : openCLEngine)
        let problem = recipe.make()
        for options in problem.optionVariants {
            let (gpu, gpuGradient) = try engine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            let (cpu, cpuGradient) = try cpuEngine.lossAndGradient(
                scores: problem.scores, shape: problem.shape, labels: problem.labels, options: options)
            #expect(gpu.backend == .opencl)
            #expect(abs(gpu.loss - cpu.loss) <= 1e-5 * max(abs(cpu.loss), 1e-3), "\(options)")
            let worst = zip(gpuGradient, cpuGradient).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6, "\(options)")
        }
    }
}
