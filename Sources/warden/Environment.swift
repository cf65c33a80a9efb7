import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest
import WardenPostgres
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

  /// Sets a home that only other users' access keeps from being used to mode 0700 when it holds
  /// only warden's files, saying so on stderr (see `GrantStore.repairHomePermissions`).
  static func repairHome(_ home: String) throws(StoreError) {
    if let note = try GrantStore.repairHomePermissions(home) { printToStandardError("warden: \(note)") }
  }

  /// Opens the store, or fails the command with the store's reason.
  static func openStore() throws -> any DelegationStore {
    let home = try home()
    let selection = try storeSelection()
    do {
      try repairHome(home)
      return try selection.open(home: home, environment: variables)
    } catch {
      switch selection {
      case .sqlite: throw CommandFailure("warden: cannot open the delegation store in \(home): \(error)")
      // The error names the store by its URL already.
      case .postgres: throw CommandFailure("warden: \(error)")
      }
    }
  }

  /// Which store the commands use: `store:` in config.yaml, else `WARDEN_STORE`, else SQLite in the
  /// home (see `StoreSelection`); a `WARDEN_STORE` that config.yaml overrides is said on stderr.
  static func storeSelection() throws -> StoreSelection {
    let configured = try configuration().store
    do {
      let (selection, warning) = try StoreSelection.choose(configured: configured, environment: variables)
      if let warning { printToStandardError("warden: \(warning)") }
      return selection
    } catch {
      throw CommandFailure("warden: \(error)", status: 78)
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

  /// The manifest a server runs under and the name its grants are matched against, for `warden run`
  /// and `warden check` alike: `--manifest FILE`, else the manifest `--server` names (a user manifest
  /// in `$WARDEN_HOME/manifests` by its `server` or an alias, else a built-in one), else the one the
  /// command's name selects (see `ManifestCatalog.select`). An invalid manifest that may be the
  /// one, or a name two manifests claim, fails with status 78.
  static func selectManifest(explicit path: String?, server: String?, command: [String]) throws
    -> ManifestSelection
  {
    if let path { return .file(try loadManifest(path), path: path, server: server) }
    do throws(ManifestLookupError) {
      var catalog = ManifestCatalog(files: [])
      if let home = try? home() { catalog = try ManifestCatalog.load(directory: home + "/manifests") }
      return try catalog.select(server: server, command: command)
    } catch {
      throw CommandFailure("warden: \(error)", status: 78)
    }
  }

  /// The manifest, the instance name and the options in force for `warden run` and `warden check`:
  /// the command line's, with what `config.yaml` pins for the server in their place. The pins are
  /// those of the name `--server` gives when config.yaml lists it, else of the instance name the
  /// command line selects (so a `--manifest` aliasing another name cannot step around them). Under a
  /// pinned manifest the instance keeps the name its pins were found by.
  static func pinnedLaunch(
    server: String?, commandLine: LaunchOptions, command: [String], settings: WardenConfiguration
  ) throws -> PinnedLaunch {
    let home = (try? home()) ?? ""
    if let server, let pin = settings.servers[server] {
      let (options, ignored) = commandLine.pinned(by: pin, home: home)
      var selection = try selectManifest(explicit: options.manifest, server: server, command: command)
      if pin.manifest != nil { selection.serverName = server }
      return PinnedLaunch(selection: selection, options: options, ignored: ignored, pinnedName: server)
    }
    let selection = try selectManifest(explicit: commandLine.manifest, server: server, command: command)
    let name = selection.serverName
    guard let pin = settings.servers[name] else {
      return PinnedLaunch(selection: selection, options: commandLine, ignored: [], pinnedName: nil)
    }
    let (options, ignored) = commandLine.pinned(by: pin, home: home)
    guard pin.manifest != nil else {
      return PinnedLaunch(selection: selection, options: options, ignored: ignored, pinnedName: name)
    }
    var pinned = try selectManifest(explicit: options.manifest, server: name, command: command)
    pinned.serverName = name
    return PinnedLaunch(selection: pinned, options: options, ignored: ignored, pinnedName: name)
  }

  static func loadManifest(_ path: String) throws -> Manifest {
    do { return try ManifestLoader.load(path: path) } catch {
      throw CommandFailure(
        "warden: the manifest \(path) is invalid:\n" + error.errors.map { "  \($0)" }.joined(separator: "\n"),
        status: 78)
    }
  }

  /// What a selection found, for the log: where the manifest came from and how it was matched, or
  /// what was looked for.
  static func describe(_ selection: ManifestSelection) -> String {
    guard let entry = selection.entry else {
      let names = selection.lookedUp.map { "'\($0)'" }.joined(separator: " or ")
      return
        (["none in $WARDEN_HOME/manifests or built in is named or aliased \(names)"] + selection.replaced)
        .joined(separator: "; ")
    }
    if case .command(let name) = selection.matched, entry.manifest.server != selection.serverName {
      return "\(entry.source), matched by the command's name '\(name)'"
    }
    return entry.source
  }
}

/// What `CommandEnvironment.pinnedLaunch` found.
struct PinnedLaunch {
  var selection: ManifestSelection
  /// The options in force: the command line's, pinned values in their place.
  var options: LaunchOptions
  /// Options the command line gave that a pinned value replaced.
  var ignored: [LaunchOptions.Ignored]
  /// The name under `servers:` whose pins apply, if any.
  var pinnedName: String?

  /// One line per option the command line gave that a pin replaced.
  var warnings: [String] {
    guard let pinnedName else { return [] }
    return ignored.map {
      "\($0.given) is ignored: $WARDEN_HOME/config.yaml pins servers.\(pinnedName).\($0.setting)"
    }
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
