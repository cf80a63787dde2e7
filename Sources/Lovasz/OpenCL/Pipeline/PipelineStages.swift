/// Every stage of the launch sequence, each with its kernels, created once from one program.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class PipelineStages {
    let program: CLProgram
    let scores: ScoreStage
    let keys: KeyStage
    let sort: BitonicSortStage
    /// The radix sort for segments past one bitonic work-group's local keys (used where
    /// ``RadixSortStage/isRunnable``; the bitonic sort then sorts everything).
    let radixSort: RadixSortStage
    let scan: SegmentedScanStage
    let gradient: GradientStage
    let backpropagation: BackpropagationStage
    let planning: PlanningStage

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        self.program = program
        scores = try ScoreStage(program: program, configuration: configuration)
        keys = try KeyStage(program: program, configuration: configuration)
        sort = try BitonicSortStage(program: program, configuration: configuration)
        radixSort = try RadixSortStage(program: program, configuration: configuration)
        scan = try SegmentedScanStage(program: program, configuration: configuration)
        gradient = try GradientStage(program: program, configuration: configuration)
        backpropagation = try BackpropagationStage(program: program, configuration: configuration)
        planning = try PlanningStage(program: program, configuration: configuration)
    }

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] {
        keys.groupedKernels + sort.groupedKernels + radixSort.groupedKernels + scan.groupedKernels
            + gradient.groupedKernels + planning.groupedKernels
    }

    /// The stages for `device`, built from the cache: with the device's default sizes, or
    /// smaller work-groups when a kernel allows fewer work-items than the device (registers,
    /// local memory).
    ///
    /// - Throws: ``OpenCLError`` from the build, with its log, or from creating a kernel.
    ///
    /// - Parameters:
    ///   - formsFor: the kind of device whose kernel forms to build (by default `device`'s).
    ///   - radixRanking: where a GPU layout's radix sort ranks its tiles (by default as
    ///     `LOVASZ_RADIX_RANKING` says).
    ///   - program: the program built with the given options, from a cache.
    static func build(
        for device: OpenCLDevice, formsFor kind: OpenCLDeviceKind? = nil,
        radixRanking: KernelConfiguration.RadixRanking? = nil, program: (String) throws(OpenCLError) -> CLProgram
    ) throws(OpenCLError) -> (stages: PipelineStages, configuration: KernelConfiguration) {
        func sizes(localSizeLimit: Int?) -> KernelConfiguration {
            let configuration = KernelConfiguration(device: device, localSizeLimit: localSizeLimit, formsFor: kind)
            return radixRanking.map { configuration.radixRanking($0) } ?? configuration
        }
        var configuration = sizes(localSizeLimit: nil)
        var stages = try PipelineStages(program: program(configuration.buildOptions), configuration: configuration)
        let limit = try stages.groupedKernels.map { (kernel) throws(OpenCLError) in try kernel.maxWorkGroupSize }.min() ?? 1
        if limit < configuration.localSize {
            configuration = sizes(localSizeLimit: limit)
            stages = try PipelineStages(program: program(configuration.buildOptions), configuration: configuration)
        }
        return (stages, configuration)
    }
}
