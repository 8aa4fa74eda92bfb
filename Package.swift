// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Ferry",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ferry", targets: ["FerryCLI"]),
        .library(name: "Ferry", targets: ["Ferry"]),
        .library(name: "FerryIR", targets: ["FerryIR"]),
        .library(name: "FerryONNX", targets: ["FerryONNX"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // protoc-c output for Schemas/onnx.proto (generated, committed) plus Ferry's wire helpers.
        .target(
            name: "CProtobufONNX",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(name: "FerryIR"),
        .target(name: "FerryONNX", dependencies: ["FerryIR", "CProtobufONNX"]),
        .target(name: "Ferry", dependencies: ["FerryIR", "FerryONNX"]),
        .executableTarget(
            name: "FerryCLI",
            dependencies: ["Ferry", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "FerryTestSupport", path: "Tests/FerryTestSupport"),
        .testTarget(name: "FerryIRTests", dependencies: ["FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryONNXTests", dependencies: ["FerryONNX", "FerryIR", "FerryTestSupport"]),
        .testTarget(name: "FerryCLITests", dependencies: ["FerryCLI", "FerryTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
