// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets, nested so the product's builds never see them. Built and run by `Fuzz/run.sh`:
// a debug build with `-sanitize=fuzzer,address`; the program keeps its own `main` and calls libFuzzer's driver.
let package = Package(
    name: "TollgateFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tollgate", path: ".."),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .executableTarget(
            name: "FuzzWire",
            dependencies: ["CLibFuzzer", .product(name: "WireFuzzing", package: "tollgate")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
