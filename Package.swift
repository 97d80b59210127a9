// swift-tools-version:6.0
// Thresher: hyperparameter sweeps across Linux machines over NNG.
import PackageDescription

let package = Package(
    name: "Thresher",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "thresher", targets: ["thresher"]),
        .library(name: "ThresherWire", targets: ["ThresherWire"]),
        .library(name: "ThresherNet", targets: ["ThresherNet"]),
        .library(name: "ThresherSweep", targets: ["ThresherSweep"]),
        .library(name: "ThresherEngine", targets: ["ThresherEngine"]),
        .library(name: "ThresherStore", targets: ["ThresherStore"]),
        .library(name: "ThresherWorker", targets: ["ThresherWorker"]),
        .library(name: "ThresherCoordinator", targets: ["ThresherCoordinator"]),
        .library(name: "ThresherReport", targets: ["ThresherReport"]),
        // Built only by scripts/fuzz (with -sanitize=fuzzer); a plain build gives a replay
        // driver that runs the decoder (the sweep-file parser) over files given on the command line.
        .executable(name: "wire-fuzz", targets: ["WireFuzz"]),
        .executable(name: "sweep-fuzz", targets: ["SweepFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The coordinator's durable state: SQLite in WAL mode with versioned migrations.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // System libraries: module maps only, no code.
        // NNG ships no pkg-config file on Debian, so its module map links `nng` by name.
        .systemLibrary(name: "CNNG", providers: [.apt(["libnng-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // zlib's inflate reads gzip-compressed data tables (ThresherEngine only).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // mbed TLS is already present as NNG's TLS engine; ThresherNet uses its HMAC-SHA256
        // for the handshake instead of pulling in a second crypto library.
        .systemLibrary(name: "CMbedCrypto", providers: [.apt(["libmbedtls-dev"])]),

        .target(name: "ThresherWire", dependencies: ["CZstd"]),
        .target(
            name: "ThresherNet",
            dependencies: ["ThresherWire", "CNNG", "CMbedCrypto", .product(name: "Logging", package: "swift-log")]
        ),
        // Sweep files, search spaces, searchers and stopping policies: pure and deterministic.
        .target(name: "ThresherSweep", dependencies: ["ThresherWire", .product(name: "Yams", package: "Yams")]),
        // Tensors, BLAS kernels, layers, losses, optimizers, schedules, metrics, safetensors, text data
        // (ThresherWire's SHA-256 keys the text preprocessing cache).
        .target(name: "ThresherEngine", dependencies: ["ThresherWire", "COpenBLAS", "CZlib"]),
        // The coordinator's store: sweeps, trials, metrics, checkpoints and events in SQLite (GRDB);
        // the content-addressed blob store; the retention policy (pure).
        .target(name: "ThresherStore", dependencies: ["ThresherWire", .product(name: "GRDB", package: "GRDB.swift"),
                                                      .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        // The worker's side of a trial: runs a trial program (the engine's `thresher train` or the
        // sweep's command) as a child process and follows its metrics and checkpoints.
        .target(
            name: "ThresherWorker",
            dependencies: ["ThresherNet", "ThresherWire", .product(name: "Logging", package: "swift-log")]
        ),
        // The coordinator service: the wire conversation over ThresherNet, sweeps from ThresherSweep,
        // durable state and retention from ThresherStore.
        .target(
            name: "ThresherCoordinator",
            dependencies: ["ThresherNet", "ThresherWire", "ThresherSweep", "ThresherStore", "ThresherReport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // `thresher report`: the `SweepReport` model rendered as one self-contained HTML page
        // (pure: it reads nothing but that value; ThresherCoordinator reads one from a store, so
        // a coordinator can answer ReportRequest).
        .target(name: "ThresherReport"),
        .executableTarget(
            name: "thresher",
            dependencies: [
                "ThresherWire", "ThresherNet", "ThresherSweep", "ThresherEngine", "ThresherStore",
                "ThresherCoordinator", "ThresherWorker", "ThresherReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The fuzzers' shared driver and replay code.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "WireFuzz", dependencies: ["ThresherWire", "FuzzSupport"], path: "Fuzz/WireFuzz", exclude: ["corpus"]),
        .executableTarget(name: "SweepFuzz", dependencies: ["ThresherSweep", "FuzzSupport"], path: "Fuzz/SweepFuzz", exclude: ["corpus"]),

        .testTarget(name: "ThresherWireTests", dependencies: ["ThresherWire"], resources: [.copy("Golden")]),
        .testTarget(name: "ThresherNetTests", dependencies: ["ThresherNet", "ThresherWire"]),
        .testTarget(name: "ThresherSweepTests", dependencies: ["ThresherSweep", "ThresherWire"]),
        .testTarget(name: "ThresherEngineTests", dependencies: ["ThresherEngine"], resources: [.copy("Fixtures")]),
        // Runs the built `thresher` executable as a user would and checks exit codes and output.
        .testTarget(name: "ThresherCLITests", dependencies: ["thresher", "ThresherWorker", "ThresherNet", "ThresherStore", "ThresherWire", "ThresherSweep",
                                                           .product(name: "Yams", package: "Yams"), "ThresherReport", "ThresherCoordinator"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ThresherStoreTests", dependencies: ["ThresherStore", "ThresherWire"]),
        .testTarget(name: "ThresherWorkerTests", dependencies: ["ThresherWorker", "ThresherNet", "ThresherWire"], resources: [.copy("Examples")]),
        .testTarget(name: "ThresherReportTests", dependencies: ["ThresherReport"]),
        .testTarget(name: "ThresherCoordinatorTests", dependencies: ["ThresherCoordinator", "ThresherNet", "ThresherWire", "ThresherSweep", "ThresherStore", "ThresherReport"]),
    ],
    swiftLanguageModes: [.v6]
)
