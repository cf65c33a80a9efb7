import ArgumentParser
import Logging
import WardenProxy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Warden {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run an MCP server behind warden, relaying its stdio transport.",
      discussion: """
        Point your agent at warden instead of the server, for example in an MCP client config:

          "command": "warden", "args": ["run", "--", "uvx", "mcp-server-git"]

        Warden starts COMMAND with its own environment and working directory and relays JSON-RPC both ways. Messages it does not need to change pass byte-for-byte. Lines that are not valid JSON-RPC are answered with an error (-32700 / -32600) and never forwarded. stdout carries only the protocol; the server's stderr and warden's log go to stderr.

        Exit status: the server's own (128+N if it was killed by signal N); 0 when the client closed the session and warden had to stop the server; 127 if COMMAND cannot be started; 64 for a usage error.
        """
    )

    @Option(name: .long, help: "The server's name (default: the basename of COMMAND).")
    var server: String?

    @Option(name: .long, help: "The agent identity (default: the client's self-reported name).")
    var agent: String?

    @Option(
      name: .long,
      help: ArgumentHelp("Longest accepted message in bytes; K, M, G suffixes.", valueName: "bytes"))
    var maxMessage: ByteCount = ByteCount(67_108_864)

    @Option(
      name: .long,
      help: ArgumentHelp(
        "Seconds the server gets to exit after the client leaves, and again after SIGTERM.",
        valueName: "seconds"))
    var grace: Double = 2

    @Option(
      name: .long,
      help: ArgumentHelp(
        "trace, debug, info, notice, warning, error or critical (default: $WARDEN_LOG or warning).",
        valueName: "level"))
    var logLevel: Logger.Level?

    @Argument(
      parsing: .postTerminator,
      help: ArgumentHelp("The MCP server's command line, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
      guard !command.isEmpty else {
        throw ValidationError(
          "missing the server's command: put it after --, as in: warden run -- uvx mcp-server-git")
      }
      guard grace >= 0, grace.isFinite else { throw ValidationError("--grace must be zero or more seconds") }
      guard maxMessage.bytes >= 64 else { throw ValidationError("--max-message must be at least 64 bytes") }
    }

    func run() throws {
      let level = logLevel ?? Logger.Level(environment: "WARDEN_LOG") ?? .warning
      LoggingSystem.bootstrap { _ in StandardErrorLogHandler(level: level) }
      let logger = Logger(label: "warden")
      let configuration = RelayConfiguration(
        command: command,
        serverName: server ?? String(command[0].split(separator: "/").last ?? Substring(command[0])),
        agentID: agent,
        maxMessage: maxMessage.bytes,
        grace: grace)
      do {
        let status = try Relay.run(configuration, logger: logger)
        throw ExitCode(status)
      } catch let error as RelayStartError {
        printToStandardError("warden: \(error)")
        throw ExitCode(127)
      }
    }
  }
}

/// A size in bytes given as `65536`, `64K`, `64M` or `1G`.
struct ByteCount: ExpressibleByArgument {
  let bytes: Int

  init(_ bytes: Int) {
    self.bytes = bytes
  }

  init?(argument: String) {
    let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    var digits = argument.uppercased()
    var multiplier = 1
    if digits.hasSuffix("B") { digits.removeLast() }
    if let last = digits.last, let factor = multipliers[last] {
      multiplier = factor
      digits.removeLast()
    }
    guard let value = Int(digits), value >= 0 else { return nil }
    let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
    guard !overflow else { return nil }
    bytes = product
  }

  var defaultValueDescription: String { String(bytes) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {
  init?(environment name: String) {
    guard let value = getenv(name) else { return nil }
    self.init(rawValue: String(cString: value).lowercased())
  }
}

func printToStandardError(_ message: String) {
  let line = Array((message + "\n").utf8)
  _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
