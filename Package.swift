// swift-tools-version:6.0
// Corral: a terminal image organizer. The target graph mirrors the architecture:
//   corral -> UI / TerminalCurses / Catalog -> Models / Grouping / Imaging -> Tensors -> CPrefetch
// C libraries enter only through the small C targets at the bottom (CNcurses, CImageCodecs, CSQLite, CPrefetch).
import PackageDescription

/// Kernels are the hot path: bounds checks off in release, where tests (run in release too) have
/// already checked every index against naive references.
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "Corral",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "corral", targets: ["corral"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // C at the bottom: system libraries through pkg-config, one shim that keeps setjmp/longjmp in C,
        // and one header of kernel helpers (prefetch hints, an unaligned vector store, a pair broadcast).
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses", pkgConfig: "ncursesw",
                       providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "CImageCodecs", path: "Sources/CImageCodecs",
                cSettings: [.unsafeFlags(["-O2"])],
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"),
                                 .linkedLibrary("webp"), .linkedLibrary("webpdemux"), .linkedLibrary("z")]),
        // Kernel helpers Swift cannot express or inline reliably (static inline, compiled into Tensors' loops).
        .target(name: "CPrefetch", path: "Sources/CPrefetch"),

        // Swift modules, lowest first.
        .target(name: "Tensors", dependencies: ["CPrefetch"], swiftSettings: fastMath),
        .target(name: "Imaging", dependencies: ["CImageCodecs"], swiftSettings: fastMath),
        .target(name: "Models", dependencies: ["Tensors", "Imaging"], resources: [], swiftSettings: fastMath),
        .target(name: "Grouping", dependencies: ["Tensors"], swiftSettings: fastMath),
        .target(name: "Catalog", dependencies: ["CSQLite", "Imaging", "Models", "Grouping"]),
        .target(name: "UI", dependencies: ["Catalog", "Grouping", "Imaging"]),
        .target(name: "TerminalCurses", dependencies: ["CNcurses", "UI"]),
        .executableTarget(name: "corral", dependencies: [
            "Tensors", "Imaging", "Models", "Grouping", "Catalog", "UI", "TerminalCurses",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests: one target per module, plus shared helpers (fixtures, seeded RNG, tolerances).
        .target(name: "TestSupport", dependencies: ["Imaging", "Tensors"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GroupingTests", dependencies: ["Grouping", "TestSupport"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "TestSupport"]),
        .testTarget(name: "UITests", dependencies: ["UI", "TestSupport"], resources: [.copy("Snapshots")]),
        .testTarget(name: "CorralTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
