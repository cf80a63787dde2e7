import Benchmark
import Foundation
import Lovasz
import Workloads

// Loss + gradient (the engine's zero-copy compute into a preallocated gradient buffer) on the
// standard workloads of `lovasz bench`, for both data models, on the CPU and on OpenCL when
// the engine's `auto` choice would use it (a GPU). Metrics: wall clock, peak resident memory,
// and segment-elements per second (Σ over segments of the group's valid pixels, per second).
//
//     cd Benchmarks && swift package benchmark
//     LOVASZ_BENCH_SIZE=small swift package benchmark --filter 'voc.*'
//
// LOVASZ_BENCH_SIZE = standard (default), small or tiny shrinks the shapes (BenchSize).

let benchmarks: @Sendable () -> Void = {
    let size = ProcessInfo.processInfo.environment["LOVASZ_BENCH_SIZE"].flatMap(BenchSize.init(rawValue:)) ?? .standard
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, LovaszMetric.segmentElementsPerSecond],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(15),
        maxIterations: 10)

    var backends: [(name: String, choice: BackendChoice)] = [("cpu", .cpu)]
    if let engine = try? LovaszEngine(backend: .auto), engine.backend == .opencl {
        backends.append(("opencl", .auto))
    }
    for workload in BenchWorkload.standard.map({ $0.scaled(size) }) {
        for data in BenchDataModel.allCases {
            for backend in backends {
                let problem = PreparedProblem(workload: workload, data: data, backend: backend.choice)
                Benchmark(
                    "\(workload.name)/\(data.rawValue)/\(backend.name)",
                    configuration: .init(
                        tags: ["shape": workload.dimensions],
                        setup: { try problem.prepare() },
                        teardown: { problem.release() })
                ) { benchmark in
                    for _ in benchmark.scaledIterations {
                        try problem.run(benchmark)
                    }
                }
            }
        }
    }
}

enum LovaszMetric {
    /// Σ over (group, counted class) segments of the group's valid pixels, per second.
    static let segmentElementsPerSecond = BenchmarkMetric.custom(
        "segment-elements/s", polarity: .prefersLarger, useScalingFactor: false)
}

/// One benchmark's inputs, gradient buffer and engine: made in its setup, released in its
/// teardown, so that only one benchmark's memory is resident at a time.
final class PreparedProblem {
    let workload: BenchWorkload
    let data: BenchDataModel
    let backend: BackendChoice
    private var inputs: BenchInputs?
    private var gradient: [Float] = []
    private var engine: LovaszEngine?

    init(workload: BenchWorkload, data: BenchDataModel, backend: BackendChoice) {
        self.workload = workload
        self.data = data
        self.backend = backend
    }

    func prepare() throws {
        let inputs = BenchInputs(workload: workload, data: data, seed: 2018)
        gradient = [Float](repeating: 0, count: inputs.scores.count)
        engine = try LovaszEngine(backend: backend)
        self.inputs = inputs
    }

    func release() {
        inputs = nil
        gradient = []
        engine = nil
    }

    /// One loss + gradient call; records its segment-elements per second.
    func run(_ benchmark: Benchmark) throws {
        guard let inputs, let engine else { return }
        let options = workload.options
        let clock = ContinuousClock()
        let start = clock.now
        let result = try inputs.scores.withUnsafeBufferPointer { scores in
            try inputs.labels.withUnsafeBufferPointer { labels in
                try gradient.withUnsafeMutableBufferPointer { gradient in
                    try engine.compute(
                        scores: scores, shape: inputs.shape, labels: labels, options: options, gradient: gradient)
                }
            }
        }
        let seconds = start.duration(to: clock.now) / .seconds(1)
        blackHole(result)
        if seconds > 0 {
            benchmark.measurement(LovaszMetric.segmentElementsPerSecond, Int(Double(result.segmentElements) / seconds))
        }
    }
}
