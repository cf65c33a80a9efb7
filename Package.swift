// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
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
    // Pure: JSON-RPC session bookkeeping today, policy later. No I/O, no C modules.
    .target(name: "WardenCore", dependencies: ["WardenJSON"], swiftSettings: strictSettings),
    // The stdio relay: child process, pipes, signals, the two pumps.
    .target(
      name: "WardenProxy",
      dependencies: [
        "WardenCore", "WardenJSON",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "warden",
      dependencies: [
        "WardenProxy", "WardenCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strictSettings
    ),
    // The example MCP server used by the demo and the tests.
    .executableTarget(
      name: "warden-example-mailbox",
      path: "examples/mailbox",
      exclude: ["README.md"],
      swiftSettings: strictSettings
    ),
    .testTarget(name: "WardenJSONTests", dependencies: ["WardenJSON"], swiftSettings: strictSettings),
    .testTarget(name: "WardenCoreTests", dependencies: ["WardenCore", "WardenJSON"], swiftSettings: strictSettings),
    .testTarget(
      name: "WardenProxyTests", dependencies: ["WardenProxy", "WardenCore", "WardenJSON"],
      swiftSettings: strictSettings),
  ],
  swiftLanguageModes: [.v6]
)
