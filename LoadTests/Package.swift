// swift-tools-version:6.1
import PackageDescription

// Benchmarks and load tools, nested so package-benchmark's allocator hooks stay out of the product.
// Run from this folder: `swift package benchmark` and `swift run -c release tollgate-bench --help`.
let package = Package(
    name: "TollgateLoadTests",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tollgate", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "BillingCore", package: "tollgate"),
                .product(name: "Journal", package: "tollgate"),
                .product(name: "Metering", package: "tollgate"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .executableTarget(
            name: "tollgate-bench",
            dependencies: [
                "CSQLite",
                .product(name: "BillingCore", package: "tollgate"),
                .product(name: "Journal", package: "tollgate"),
                .product(name: "Metering", package: "tollgate"),
                .product(name: "Ledger", package: "tollgate"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
