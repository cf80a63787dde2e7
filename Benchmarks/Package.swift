// swift-tools-version: 6.1
import PackageDescription

// The package-benchmark suites of swift-lovasz, kept in their own package so that the library
// does not depend on the benchmark package. Run from this directory: `swift package benchmark`.
let package = Package(
    name: "swift-lovasz-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-lovasz", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The standard workloads of `lovasz bench`, from the same source files: Workloads is a
        // link to ../Sources/LovaszWorkloads, whose files use only the public API of Lovasz.
        // (Target names must be unique across the package graph, hence another name.)
        .target(
            name: "Workloads",
            dependencies: [.product(name: "Lovasz", package: "swift-lovasz")],
            path: "Workloads",
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // Loss + gradient on the standard workloads, per data model and backend.
        .executableTarget(
            name: "LovaszBenchmarks",
            dependencies: [
                .product(name: "Lovasz", package: "swift-lovasz"),
                "Workloads",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "LovaszBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("InternalImportsByDefault")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
