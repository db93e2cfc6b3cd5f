// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets, nested so the product's builds never see them. Built and run by `Fuzz/run.sh`:
// a debug build with `-sanitize=fuzzer,address`; the program keeps its own `main` and calls libFuzzer's driver.
// The harness and the test doubles are the main package's own sources (`Sources/WireFuzzing` and
// `Sources/TestSupport` are links to `Tests/`), built here against its public products: the fuzzer drives
// `PBXSession` through its public interface, as `serve` and `swift test` do.
let package = Package(
    name: "TollgateFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tollgate", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "BillingCore", package: "tollgate"),
                .product(name: "Journal", package: "tollgate"),
                .product(name: "Metering", package: "tollgate"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "WireFuzzing",
            dependencies: [
                "TestSupport",
                .product(name: "BillingCore", package: "tollgate"),
                .product(name: "Metering", package: "tollgate"),
                .product(name: "PBXWire", package: "tollgate"),
                .product(name: "PBXServer", package: "tollgate"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "FuzzWire",
            dependencies: ["CLibFuzzer", "WireFuzzing"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
