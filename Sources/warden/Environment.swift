import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// What the commands share: the environment, the clock, the person at the keyboard, the store.
enum CommandEnvironment {
  static var variables: [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
      let text = String(cString: entry)
      if let equals = text.firstIndex(of: "=") {
        result[String(text[..<equals])] = String(text[text.index(after: equals)...])
      }
      pointer += 1
    }
    return result
  }

  /// Milliseconds since the Unix epoch.
  static func now() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
  }

  /// The OS user running the command.
  static var userName: String {
    if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return variables["USER"] ?? "uid \(geteuid())"
  }

  static func home() throws -> String {
    do { return try GrantStore.defaultHome(environment: variables) } catch {
      throw CommandFailure("warden: \(error)")
    }
  }

  /// Opens the store, or fails the command with the store's reason.
  static func openStore() throws -> any DelegationStore {
    let home = try home()
    do { return try GrantStore.open(home: home) } catch {
      throw CommandFailure("warden: cannot open the delegation store in \(home): \(error)")
    }
  }

  /// The store, with the audit journals of sessions that ended without finishing them folded into
  /// the chain first, so what is read of the trail includes them. Problems are said on stderr.
  static func openStoreWithAuditTrail() throws -> any DelegationStore {
    let store = try openStore()
    let recovery = store.recoverAuditJournals(now: now())
    if recovery.records > 0 {
      printToStandardError(
        "warden: recovered \(recovery.records) audit record(s) from the journals of \(recovery.sessions.count) session(s) that ended without writing them (killed or crashed)"
      )
    }
    for problem in recovery.problems { printToStandardError("warden: \(problem)") }
    return store
  }

  /// `$WARDEN_HOME/config.yaml`, or the defaults when there is none.
  static func configuration() throws -> WardenConfiguration {
    guard let home = try? home() else { return WardenConfiguration() }
    let path = home + "/config.yaml"
    guard let file = fopen(path, "rb") else { return WardenConfiguration() }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = fread(&buffer, 1, buffer.count, file)
      if count == 0 { break }
      bytes += buffer[0..<count]
    }
    do { return try WardenConfiguration.parse(String(decoding: bytes, as: UTF8.self), file: path) } catch {
      throw CommandFailure("warden: \(error)", status: 78)
    }
  }

  /// Paths no tool call may touch: warden's home, as given and as resolved.
  /// Whether this command runs at a terminal: its standard input is one and it has a controlling
  /// terminal. An agent's shell tool runs commands with pipes, so a grant or approval typed there
  /// is refused unless `scripted: allow` (a speed bump, not a wall: a process can get a
  /// pseudo-terminal; SPEC's threat model says what this stops).
  static var atTerminal: Bool {
    guard isatty(0) == 1 else { return false }
    let terminal = open("/dev/tty", O_RDWR | O_NOCTTY)
    guard terminal >= 0 else { return false }
    close(terminal)
    return true
  }

  /// How a grant or approval from this command is attested; throws when it needs a terminal and
  /// the configuration does not allow scripts.
  static func requireHuman(_ what: String) throws -> Attestation {
    if atTerminal { return .cliTerminal }
    guard try configuration().allowsScripted else {
      throw CommandFailure(
        "warden: refusing to \(what) without a terminal: an agent with a shell could do that. Run it in a terminal, or put `scripted: allow` in $WARDEN_HOME/config.yaml to let scripts do it.",
        status: 77)
    }
    return .cliScripted
  }

  static func protectedPaths(home: String) -> [String] {
    var paths = [(try? ScopeFilters.normalizedPath(home, base: nil)) ?? home]
    if let resolved = realpath(home, nil) {
      paths.append(String(cString: resolved))
      free(resolved)
    }
    return Array(Set(paths)).sorted()
  }

  /// Finds the manifest for a server: `--manifest`, else `$WARDEN_HOME/manifests/NAME.{yaml,yml,json}`,
  /// else the ones installed with warden. Nil when there is none.
  static func manifest(explicit path: String?, serverName: String) throws -> (Manifest, String)? {
    if let path {
      return (try loadManifest(path), path)
    }
    if let home = try? home() {
      for suffix in ["yaml", "yml", "json"] {
        let candidate = "\(home)/manifests/\(serverName).\(suffix)"
        if access(candidate, F_OK) == 0 { return (try loadManifest(candidate), candidate) }
      }
    }
    if let builtin = BuiltinManifests.builtin(named: serverName) {
      return (builtin, "built-in manifest '\(builtin.server)'")
    }
    return nil
  }

  /// The server name grants are matched against, for `warden run` and `warden check` alike: an
  /// explicit `--server` (an instance name such as `git-prod`), except that an alias of the manifest
  /// stands for the manifest's own name (`mcp-server-git` is `git`); else the manifest's name, else
  /// the name derived from the command.
  static func grantServerName(explicit: String?, manifest: Manifest?, derived: String) -> String {
    if let explicit, let manifest, manifest.aliases.contains(where: { $0.hasSameBytes(as: explicit) }) {
      return manifest.server
    }
    return explicit ?? manifest?.server ?? derived
  }

  static func loadManifest(_ path: String) throws -> Manifest {
    do { return try ManifestLoader.load(path: path) } catch {
      throw CommandFailure(
        "warden: the manifest \(path) is invalid:\n" + error.errors.map { "  \($0)" }.joined(separator: "\n"),
        status: 78)
    }
  }

  /// The server name `warden run` derives from a command line: its basename, or for a launcher
  /// (`uvx`, `npx`, `pipx run`, `python -m`) the package or module it launches.
  static func serverName(for command: [String]) -> String {
    func base(_ text: String) -> String { String(text.split(separator: "/").last ?? Substring(text)) }
    let program = base(command[0])
    let arguments = command.dropFirst()
    switch program {
    case "uvx", "npx", "bunx", "pnpx":
      if let package = arguments.first(where: { !$0.hasPrefix("-") }) { return stripVersion(base(package)) }
    case "pipx", "uv":
      let rest = arguments.drop { $0 == "run" || $0 == "tool" || $0.hasPrefix("-") }
      if let package = rest.first { return stripVersion(base(package)) }
    default:
      if program.hasPrefix("python"), let index = arguments.firstIndex(of: "-m"), index + 1 < command.count {
        return command[index + 1]
      }
    }
    return program
  }

  private static func stripVersion(_ package: String) -> String {
    // "pkg@1.2" and "@scope/pkg@1.2" launch "pkg".
    let trimmed = package.hasPrefix("@") ? String(package.dropFirst()) : package
    return String(trimmed.split(separator: "@").first ?? Substring(trimmed))
  }
}

/// A command that failed with a message for stderr and an exit status.
struct CommandFailure: Error, CustomStringConvertible {
  var message: String
  var status: Int32

  init(_ message: String, status: Int32 = 1) {
    self.message = message
    self.status = status
  }

  var description: String { message }
}

extension ParsableCommand {
  /// Runs `body`, turning a CommandFailure into its message on stderr and its exit status.
  func reportingFailures(_ body: () throws -> Void) throws {
    do { try body() } catch let failure as CommandFailure {
      printToStandardError(failure.message)
      throw ExitCode(failure.status)
    }
  }
}

/// Writes a line to stdout.
func printLine(_ text: String) {
  let line = Array((text + "\n").utf8)
  _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}
