// swift-tools-version:6.1
import PackageDescription

#if os(Linux)
  import Glibc

  /// How release builds of `warden` are linked, for a small resident set (bench/README.md measures it):
  /// - lld with packed relative relocations (DT_RELR): the loader reads kilobytes of relocations at
  ///   start instead of megabytes. The loader understands them from glibc 2.36.
  /// - No exported symbol table (`--no-export-dynamic`): nothing loads code into warden that would
  ///   need it, and the loader would otherwise page in 3 MB of symbol names and hashes at start.
  /// - The functions a running warden executes laid out together (`bench/link-order.txt`, written by
  ///   `bench/link-order.sh`): resident text is counted in whole runs of pages around each one touched.
  let releaseLinking: [LinkerSetting] = {
    var buffer = [CChar](repeating: 0, count: 64)
    guard confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count) > 0 else { return [] }
    // "glibc 2.36"
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let version = text.split(separator: " ").last ?? ""
    let parts = version.split(separator: ".").compactMap { Int($0) }
    guard parts.count >= 2, (parts[0], parts[1]) >= (2, 36) else { return [] }
    var flags = [
      "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
    ]
    let order = Context.packageDirectory + "/bench/link-order.txt"
    if access(order, R_OK) == 0 {
      // A name the code no longer has is skipped silently: a stale list costs memory, not correctness.
      flags += ["-Xlinker", "--symbol-ordering-file=" + order, "-Xlinker", "--no-warn-symbol-ordering"]
    }
    return [.unsafeFlags(flags, .when(configuration: .release))]
  }()
#else
  let releaseLinking: [LinkerSetting] = []
#endif

let strictSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
  // Each function in a section of its own, so that release linking can lay out the ones a running
  // warden executes together (see `releaseLinking`) and drop the ones nothing calls.
  .unsafeFlags(["-Xfrontend", "-function-sections"], .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
  name: "warden",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "warden", targets: ["warden"]),
    .executable(name: "warden-example-mailbox", targets: ["warden-example-mailbox"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
  ],
  targets: [
    // The C JSON library; only WardenJSON may import it.
    .systemLibrary(
      name: "CJansson",
      pkgConfig: "jansson",
      providers: [.apt(["libjansson-dev"])]
    ),
    // Bytes <-> JSON values on jansson, plus the allocation-light message scanner of the hot path.
    .target(name: "WardenJSON", dependencies: ["CJansson"], swiftSettings: strictSettings),
    // PostgreSQL's parser (libpg_query); only WardenSQL may import it. No pkg-config file ships with it.
    .systemLibrary(
      name: "CPgQuery",
      providers: [.apt(["libpg-query-dev"])]
    ),
    // Pure: JSON-RPC session bookkeeping, manifests, scope templates, grants and the decision.
    // No I/O, no C modules.
    .target(name: "WardenCore", dependencies: ["WardenJSON"], swiftSettings: strictSettings),
    // Manifest files (YAML or JSON) to WardenCore's model, with file:line:column errors.
    .target(
      name: "WardenManifest",
      dependencies: ["WardenCore", "WardenJSON", .product(name: "Yams", package: "Yams")],
      swiftSettings: strictSettings),
    // SQL text to the operations it performs, through SQLite's and PostgreSQL's own parsers.
    .target(
      name: "WardenSQL",
      dependencies: [
        "WardenCore", "WardenJSON", "CPgQuery", .product(name: "GRDBSQLite", package: "GRDB.swift"),
      ],
      exclude: ["README.md"],
      swiftSettings: strictSettings),
    // The delegation store: SQLite through GRDB, schema migrations, grants and forbids.
    .target(
      name: "WardenStore",
      dependencies: [
        "WardenCore", "WardenJSON", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strictSettings),
    // The delegation store on PostgreSQL (fleet mode): the same protocol and semantics as the
    // SQLite store, through postgres-nio; GRDB-free.
    .target(
      name: "WardenPostgres",
      dependencies: [
        "WardenCore", "WardenStore",
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strictSettings),
    // The stdio relay: child process, pipes, signals, the two pumps.
    .target(
      name: "WardenProxy",
      dependencies: [
        "WardenCore", "WardenJSON", "WardenStore",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strictSettings
    ),
    // Agents' MCP configurations (JSON, JSONC, TOML) edited as text: wrap every stdio server in
    // `warden run` and take it out again, keeping every other byte. TOMLKit only reads TOML.
    .target(
      name: "WardenWrap",
      dependencies: ["WardenJSON", .product(name: "TOMLKit", package: "TOMLKit")],
      swiftSettings: strictSettings),
    // `warden doctor`'s checks: what was gathered about a deployment in, findings out; no I/O.
    .target(
      name: "WardenDoctor", dependencies: ["WardenCore", "WardenJSON", "WardenManifest"],
      swiftSettings: strictSettings),
    .executableTarget(
      name: "warden",
      dependencies: [
        "WardenProxy", "WardenCore", "WardenManifest", "WardenStore", "WardenPostgres", "WardenJSON",
        "WardenSQL",
        "WardenWrap", "WardenDoctor",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strictSettings,
      linkerSettings: releaseLinking
    ),
    // The example MCP server used by the demo and the tests.
    .executableTarget(
      name: "warden-example-mailbox",
      path: "examples/mailbox",
      exclude: ["README.md"],
      swiftSettings: strictSettings
    ),
    // bench/: the cost of one decision with many grants in force (run by bench/run.sh).
    .executableTarget(
      name: "warden-bench-decision",
      dependencies: ["WardenCore", "WardenJSON", "WardenStore"],
      path: "bench/decision",
      swiftSettings: strictSettings
    ),
    // bench/store: the store's costs for a running warden, SQLite and PostgreSQL side by side.
    .executableTarget(
      name: "warden-bench-store",
      dependencies: ["WardenCore", "WardenJSON", "WardenStore", "WardenPostgres"],
      path: "bench/store",
      swiftSettings: strictSettings
    ),
    .testTarget(name: "WardenJSONTests", dependencies: ["WardenJSON"], swiftSettings: strictSettings),
    .testTarget(
      name: "WardenCoreTests", dependencies: ["WardenCore", "WardenJSON"], exclude: ["Fixtures"],
      swiftSettings: strictSettings),
    .testTarget(
      name: "WardenManifestTests", dependencies: ["WardenManifest", "WardenCore", "WardenSQL"],
      swiftSettings: strictSettings),
    .testTarget(
      name: "WardenWrapTests", dependencies: ["WardenWrap"], exclude: ["Fixtures"],
      swiftSettings: strictSettings),
    .testTarget(
      name: "WardenStoreTests", dependencies: ["WardenStore", "WardenPostgres", "WardenCore", "WardenJSON"],
      swiftSettings: strictSettings),
    .testTarget(
      name: "WardenSQLTests",
      dependencies: [
        "WardenSQL", "WardenCore", "WardenJSON", .product(name: "GRDBSQLite", package: "GRDB.swift"),
      ],
      exclude: ["Fixtures"], swiftSettings: strictSettings),
    .testTarget(
      name: "WardenDoctorTests", dependencies: ["WardenDoctor", "WardenManifest", "WardenCore"],
      swiftSettings: strictSettings),
    .testTarget(
      name: "WardenProxyTests",
      dependencies: [
        "WardenProxy", "WardenCore", "WardenJSON", "WardenStore",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strictSettings),
  ],
  swiftLanguageModes: [.v6]
)
