// swift-tools-version: 6.1
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-lovasz",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Lovasz", targets: ["Lovasz"]),
        .executable(name: "lovasz", targets: ["LovaszCLI"]),
        // The C interface (include/lovasz.h) for training code in C, C++ and Python.
        .library(name: "LovaszC", type: .dynamic, targets: ["LovaszC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // The only code that touches the OpenCL C API; loads libOpenCL.so.1 with dlopen.
        .target(
            name: "CLovaszOpenCL",
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        // The CPU path's inner loops that the Swift compiler leaves scalar or at the baseline
        // vector width (the key pass's compaction, softmax and its back-propagation), in C: a
        // portable scalar form and an AVX2 form chosen at run time, bit for bit the same values.
        .target(name: "CLovaszCPU"),
        // The OpenCL C kernels, embedded into the binary at build time.
        .target(
            name: "LovaszKernels",
            path: "Kernels",
            resources: [
                .embedInCode("lovasz_common.cl"),
                .embedInCode("lovasz_scores.cl"),
                .embedInCode("lovasz_keys.cl"),
                .embedInCode("bitonic_sort.cl"),
                .embedInCode("radix_sort.cl"),
                .embedInCode("radix_scatter.cl"),
                .embedInCode("segmented_scan.cl"),
                .embedInCode("lovasz_gradient.cl"),
                .embedInCode("backprop.cl"),
                .embedInCode("lovasz_plan.cl"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "Lovasz",
            dependencies: [
                "CLovaszCPU",
                "CLovaszOpenCL",
                "LovaszKernels",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // The declarations of include/lovasz.h, seen from Swift (a module map only).
        .systemLibrary(name: "CLovaszAPI", path: "include"),
        // Reading and writing NumPy `.npy` files (used by the command and the tests); it does
        // not depend on the loss library.
        .target(
            name: "LovaszNumPy",
            swiftSettings: strictSwift
        ),
        // The C interface: `@_cdecl` functions over `LovaszEngine`, declared in include/lovasz.h.
        .target(
            name: "LovaszC",
            dependencies: ["Lovasz", "CLovaszAPI"],
            swiftSettings: strictSwift
        ),
        // The standard benchmark workloads (shapes, options, seeded data) and the seeded
        // generator they and the demos draw from. Uses the public API of Lovasz only: the
        // Benchmarks/ package compiles these same files (Benchmarks/Workloads is a link).
        .target(
            name: "LovaszWorkloads",
            dependencies: ["Lovasz"],
            swiftSettings: strictSwift
        ),
        // The paper's experiments and the training demo behind `lovasz demo`.
        .target(
            name: "LovaszDemo",
            dependencies: ["Lovasz", "LovaszWorkloads"],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "LovaszCLI",
            dependencies: [
                "Lovasz",
                "LovaszDemo",
                "LovaszNumPy",
                "LovaszWorkloads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        // Independent naive reference implementations and random problems shared by the tests.
        .target(
            name: "LovaszTestSupport",
            dependencies: ["Lovasz"],
            path: "Tests/LovaszTestSupport",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "LovaszTests",
            dependencies: ["Lovasz", "CLovaszCPU", "LovaszTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "LovaszNumPyTests",
            dependencies: ["LovaszNumPy", "LovaszTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "LovaszOpenCLTests",
            dependencies: ["Lovasz", "LovaszTestSupport"],
            swiftSettings: strictSwift
        ),
        // Runs the built `lovasz` binary as a subprocess (exit codes, files, environment).
        .testTarget(
            name: "LovaszCLITests",
            dependencies: ["LovaszCLI", "LovaszNumPy", "LovaszTestSupport", "LovaszWorkloads"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "LovaszDemoTests",
            dependencies: ["LovaszDemo", "LovaszTestSupport"],
            swiftSettings: strictSwift
        ),
    ]
)
