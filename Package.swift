// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Ferry",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ferry", targets: ["FerryCLI"]),
        // Reads HDF5 files for library users in a process of its own (the CLI serves itself).
        .executable(name: "ferry-hdf5-reader", targets: ["FerryHDF5Reader"]),
        // Ferry's readers as fuzz targets: replays files; `make fuzz` builds it with libFuzzer.
        .executable(name: "ferry-fuzz", targets: ["FerryFuzz"]),
        .library(name: "Ferry", targets: ["Ferry"]),
        .library(name: "FerryIR", targets: ["FerryIR"]),
        .library(name: "FerryONNX", targets: ["FerryONNX"]),
        .library(name: "FerryHDF5", targets: ["FerryHDF5"]),
        .library(name: "FerrySafetensors", targets: ["FerrySafetensors"]),
        .library(name: "FerryKeras", targets: ["FerryKeras"]),
        .library(name: "FerryTorch", targets: ["FerryTorch"]),
        .library(name: "FerryRewrite", targets: ["FerryRewrite"]),
        .library(name: "FerryRuntime", targets: ["FerryRuntime"]),
        .library(name: "FerryPasses", targets: ["FerryPasses"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        // `make docs`: swift package generate-documentation.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", exact: "1.5.0")
    ],
    targets: [
        // protoc-c output for Schemas/onnx.proto (generated, committed) plus Ferry's wire helpers.
        .target(
            name: "CProtobufONNX",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        // libhdf5 (Debian libhdf5-dev) with a header of inline shims for its macros.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .target(name: "FerryIR"),
        .target(name: "FerryONNX", dependencies: ["FerryIR", "CProtobufONNX"]),
        .target(name: "FerryHDF5", dependencies: ["FerryIR", "CHDF5"]),
        .executableTarget(name: "FerryHDF5Reader", dependencies: ["FerryHDF5"]),
        .target(name: "FerrySafetensors", dependencies: ["FerryIR"]),
        // PyTorch checkpoints, read by a pickle machine that builds only tensors and plain data.
        .target(name: "FerryTorch", dependencies: ["FerryIR"]),
        .target(name: "FerryKeras", dependencies: ["FerryIR", "FerryRewrite", "FerryHDF5", "ZIPFoundation"]),
        // CBLAS: OpenBLAS on Linux (Debian libopenblas-dev); Accelerate replaces it on macOS.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // The interpreter's C micro-kernels. No unsafe flags here (SwiftPM refuses them in a versioned
        // dependency): `make build-tests` optimises debug builds, whose tests run real models.
        .target(name: "CKernels"),
        // Pattern matchers and graph rewrites shared by the planner and the passes.
        .target(name: "FerryRewrite", dependencies: ["FerryIR"]),
        .target(
            name: "FerryRuntime",
            dependencies: ["FerryIR", "FerryRewrite", "CKernels", .target(name: "CBLAS", condition: .when(platforms: [.linux]))]
        ),
        // Optimization, quantization and pruning passes over the IR (calibration runs the interpreter).
        .target(name: "FerryPasses", dependencies: ["FerryIR", "FerryRewrite", "FerryRuntime"]),
        .target(
            name: "Ferry",
            dependencies: [
                "FerryIR", "FerryONNX", "FerryHDF5", "FerrySafetensors", "FerryKeras", "FerryTorch", "FerryRuntime",
                "ZIPFoundation"
            ]
        ),
        // libFuzzer's driver when linked in (weak), for ferry-fuzz.
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "FerryFuzz",
            dependencies: [
                "Ferry", "FerryIR", "FerryONNX", "FerryHDF5", "FerryKeras", "FerryPasses", "FerryRuntime", "CFuzzDriver"
            ]),
        .executableTarget(
            name: "FerryCLI",
            dependencies: [
                "Ferry", "FerryHDF5", "FerryRuntime", "FerryPasses",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        .target(name: "FerryTestSupport", dependencies: ["FerryIR"], path: "Tests/FerryTestSupport"),
        .testTarget(name: "FerryIRTests", dependencies: ["FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryONNXTests", dependencies: ["FerryONNX", "FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryHDF5Tests", dependencies: ["FerryHDF5", "FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerrySafetensorsTests", dependencies: ["FerrySafetensors", "FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryTorchTests", dependencies: ["FerryTorch", "FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryKerasTests", dependencies: ["FerryKeras", "FerryHDF5", "FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryRewriteTests", dependencies: ["FerryRewrite", "FerryIR", "FerryTestSupport"]),
        .testTarget(
            name: "FerryRuntimeTests",
            dependencies: ["Ferry", "FerryRuntime", "FerryONNX", "FerryIR", "FerryTestSupport", "CKernels"]),
        .testTarget(
            name: "FerryPassesTests",
            dependencies: ["FerryPasses", "FerryRewrite", "Ferry", "FerryRuntime", "FerryONNX", "FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryCLITests", dependencies: ["FerryCLI", "FerryTestSupport"])
    ],
    swiftLanguageModes: [.v5]
)
