import WardenDoctor
import WardenJSON
import WardenManifest
import WardenPostgres
import WardenStore
import WardenWrap

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// What `warden doctor` reads of a deployment, for the pure checks of `WardenDoctor`: stat, files,
/// the PATH, the store opened read-only. Nothing here writes, creates or locks anything.
enum DoctorGathering {
  /// warden's own entries of its home, checked for owner and mode when they exist.
  static let entries = [
    "warden.db", "warden.db-wal", "warden.db-shm", "warden.db-journal", "audit.head", "config.yaml",
    "manifests", "wrapped", "audit-journal",
  ]

  /// Everything the checks need; throws (exit 2) when the home cannot be found or inspected.
  static func gather(configs: [String], agent: AgentKind?) throws -> DeploymentFacts {
    let home = try CommandEnvironment.home()
    let homeFile: FileFacts
    switch inspect(home, follow: true) {
    case .success(let file): homeFile = file
    case .failure(let reason):
      throw CommandFailure("warden: cannot inspect warden's home \(home): \(reason.text)")
    }
    var facts = DeploymentFacts(
      userID: geteuid(), userName: CommandEnvironment.userName, home: home, homeFile: homeFile)
    facts.atTerminal = CommandEnvironment.atTerminal
    facts.notifySend = onPath("notify-send")
    if homeFile.kind == .directory {
      guard access(home, R_OK | X_OK) == 0 else {
        throw CommandFailure("warden: cannot read warden's home \(home): \(String(cString: strerror(errno)))")
      }
      facts.homeEntries = entries.map { name in
        // An entry that cannot be inspected in a home that can be read is odd enough to show.
        (try? inspect(home + "/" + name, follow: false).get())
          ?? FileFacts(path: home + "/" + name, kind: .other)
      }.filter { $0.kind != .missing }
      facts.store = store(home + "/warden.db")
      facts.configuration = configuration(home + "/config.yaml")
    }
    facts.catalog = Result { () throws(ManifestLookupError) -> ManifestCatalog in
      try ManifestCatalog.load(directory: home + "/manifests")
    }
    facts.sharedStore = sharedStore(facts.configuration)
    facts.agentConfigs = wrappedConfigs(home: home)
    let recorded = Set(facts.agentConfigs.map(\.path))
    for path in configs where !recorded.contains(WrapFiles.absolute(path)) {
      facts.agentConfigs.append(agentConfig(WrapFiles.absolute(path), agent: agent, wrapped: false))
    }
    if case .valid(let configuration) = facts.configuration {
      manifests(&facts, configuration: configuration)
    } else if case .absent = facts.configuration {
      manifests(&facts, configuration: WardenConfiguration())
    }
    return facts
  }

  /// Why `stat` failed: the text of its errno.
  struct SystemError: Error {
    var text: String
  }

  /// `stat` (or `lstat`) of `path`: `.missing` when it is not there, the error when it cannot be
  /// inspected (permission denied, I/O).
  static func inspect(_ path: String, follow: Bool) -> Result<FileFacts, SystemError> {
    var info = stat()
    guard (follow ? stat(path, &info) : lstat(path, &info)) == 0 else {
      if errno == ENOENT || errno == ENOTDIR { return .success(.missing(path)) }
      return .failure(SystemError(text: String(cString: strerror(errno))))
    }
    var link = stat()
    let isLink = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
    let kind: FileFacts.Kind =
      switch info.st_mode & S_IFMT {
      case S_IFDIR: .directory
      case S_IFREG: .regularFile
      default: .other
      }
    return .success(
      FileFacts(
        path: path, kind: kind, isSymbolicLink: isLink, ownerID: info.st_uid,
        mode: UInt32(info.st_mode & 0o7777)))
  }

  /// The team's store, when `store:` or `WARDEN_STORE` names one: connected to read its schema's
  /// migrations, nothing written.
  static func sharedStore(_ configuration: ConfigurationState) -> SharedStoreFacts? {
    let variables = CommandEnvironment.variables
    let configured: String?
    if case .valid(let settings) = configuration { configured = settings.store } else { configured = nil }
    let source: SharedStoreFacts.Source = configured == nil ? .environment : .configuration
    guard let text = configured ?? variables["WARDEN_STORE"].flatMap({ $0.isEmpty ? nil : $0 }),
      text != "sqlite"
    else { return nil }
    let url: PostgresURL
    do throws(StoreError) {
      guard case .postgres(let chosen) = try StoreSelection.parse(text, source: "the store") else {
        return nil
      }
      url = chosen
    } catch {
      return SharedStoreFacts(
        location: PostgresURL.redacted(text), source: source, state: .unavailable(error.message))
    }
    let state: SharedStoreFacts.State
    let password: String?
    do { password = try PostgresPassword.resolve(environment: variables) } catch {
      return SharedStoreFacts(location: url.description, source: source, state: .unavailable(error.message))
    }
    switch PostgresInspection.inspect(url: url, password: password) {
    case .current(let version): state = .current(version: version)
    case .empty: state = .empty
    case .outdated(let missing): state = .outdated(missing: missing)
    case .newer(let unknown): state = .newer(unknown: unknown)
    case .foreign(let tables):
      state = .unavailable("not a warden store (it has tables \(tables.joined(separator: ", ")))")
    case .unavailable(let reason): state = .unavailable(reason)
    }
    return SharedStoreFacts(location: url.description, source: source, state: state)
  }

  static func store(_ path: String) -> StoreState {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing }
    switch StoreInspection.inspect(databasePath: path) {
    case .current(let count): return .current(migrations: count)
    case .outdated(let missing): return .outdated(missing: missing)
    case .newer(let unknown): return .newer(unknown: unknown)
    case .unreadable(let reason): return .unreadable(reason)
    }
  }

  static func configuration(_ path: String) -> ConfigurationState {
    guard access(path, F_OK) == 0 else { return .absent }
    do {
      let file = try WrapFiles.read(path)
      return .valid(try WardenConfiguration.parse(String(decoding: file.bytes, as: UTF8.self), file: path))
    } catch let failure as CommandFailure {
      return .invalid(stripped(failure.message))
    } catch {
      return .invalid("\(error)")
    }
  }

  /// Every configuration `warden wrap` recorded in `$WARDEN_HOME/wrapped/`.
  static func wrappedConfigs(home: String) -> [AgentConfigFacts] {
    let folder = home + "/wrapped"
    guard let directory = opendir(folder) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) {
        String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name.hasSuffix(".json") { names.append(name) }
    }
    var configs: [AgentConfigFacts] = []
    for name in names.sorted() {
      let record = folder + "/" + name
      guard let file = try? WrapFiles.read(record), let json = try? JSONValue.parse(file.bytes),
        let path = json["path"]?.stringValue
      else { continue }
      let kind = json["agent"]?.stringValue.flatMap(AgentKind.init(rawValue:))
      guard access(path, F_OK) == 0 || errno != ENOENT else {
        let original = String(record.dropLast(".json".count)) + ".original"
        configs.append(
          AgentConfigFacts(path: path, wrapped: true, state: .missing(records: [record, original])))
        continue
      }
      configs.append(agentConfig(path, agent: kind, wrapped: true))
    }
    return configs
  }

  /// Reads an agent's configuration: as `agent` when known, else the agent its name tells, else
  /// the first of the file shapes that reads it.
  static func agentConfig(_ path: String, agent: AgentKind?, wrapped: Bool) -> AgentConfigFacts {
    let file: WrapFiles.Config
    do { file = try WrapFiles.read(path) } catch let failure as CommandFailure {
      return AgentConfigFacts(path: path, wrapped: wrapped, state: .unreadable(stripped(failure.message)))
    } catch {
      return AgentConfigFacts(path: path, wrapped: wrapped, state: .unreadable("\(error)"))
    }
    let kinds = (agent ?? AgentKind.detect(path: path)).map { [$0] } ?? [.claudeCode, .vscode, .codex]
    var reason = "not an MCP configuration of a known agent"
    for kind in kinds {
      do {
        let servers = try ConfigEditor.launches(file.bytes, agent: kind, file: path).map { launch in
          ConfiguredServer(
            name: launch.name, remote: launch.remote,
            commandLine: launch.command.map { [$0] + launch.arguments } ?? [],
            behindWarden: launch.isBehindWarden)
        }
        return AgentConfigFacts(
          path: path, wrapped: wrapped, state: .read(agent: kind.rawValue, servers: servers))
      } catch {
        reason = error.message
      }
    }
    return AgentConfigFacts(path: path, wrapped: wrapped, state: .unreadable(reason))
  }

  /// Loads each manifest file the wrapped command lines and config.yaml name, and notes which this
  /// user can write.
  static func manifests(_ facts: inout DeploymentFacts, configuration: WardenConfiguration) {
    for path in Doctor.manifestFiles(of: facts.agentConfigs, configuration: configuration, home: facts.home) {
      if access(path, F_OK) != 0 {
        facts.manifestFiles[path] = .missing
        continue
      }
      do { facts.manifestFiles[path] = .loaded(try ManifestLoader.load(path: path)) } catch {
        facts.manifestFiles[path] = .invalid(error.errors.first.map { "\($0)" } ?? "invalid")
      }
      if access(path, W_OK) == 0 || access(WrapFiles.directory(of: path), W_OK) == 0 {
        facts.writableManifests.insert(path)
      }
    }
  }

  static func onPath(_ name: String) -> String? {
    for folder in (CommandEnvironment.variables["PATH"] ?? "").split(separator: ":") where !folder.isEmpty {
      let candidate = "\(folder)/\(name)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }

  /// A command failure's message without its `warden: ` prefix.
  private static func stripped(_ message: String) -> String {
    message.hasPrefix("warden: ") ? String(message.dropFirst(8)) : message
  }
}
