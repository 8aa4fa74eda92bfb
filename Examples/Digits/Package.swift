// swift-tools-version:6.0
import PackageDescription

// Ferry as another package gets it: a version of a git repository. `make example` publishes the
// working tree as version 0.1.0 of the local repository .build/example/ferry (FERRY_GIT_URL
// names another one).
let ferry = Context.environment["FERRY_GIT_URL"] ?? "file://\(Context.packageDirectory)/../../.build/example/ferry"

let package = Package(
    name: "Digits",
    platforms: [.macOS(.v13)],
    dependencies: [.package(url: ferry, from: "0.1.0")],
    targets: [
        .executableTarget(
            name: "Digits",
            dependencies: [
                .product(name: "Ferry", package: "ferry"),
                .product(name: "FerryHDF5", package: "ferry"),
                .product(name: "FerryIR", package: "ferry"),
                .product(name: "FerryRuntime", package: "ferry"),
                .product(name: "FerryPasses", package: "ferry")
            ]
        )
    ]
)
