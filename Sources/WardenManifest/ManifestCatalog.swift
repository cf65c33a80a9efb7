import Foundation
import WardenCore

/// The manifests a server can be found by name in: the user's (every `*.yaml`, `*.yml` and `*.json` of
/// `$WARDEN_HOME/manifests`), over the ones installed with warden. Each manifest is found by its
/// `server` and each of its `aliases`; a file's own name does not matter.
///
/// A user manifest replaces the built-in one whose names it claims, and all of that built-in one:
/// once a user manifest claims `git`, the built-in git manifest is not found by `mcp-server-git`
/// either, so a command line cannot reach around the user's manifest through another of its names.
///
/// Lookups fail closed. A name two user manifests claim, a user manifest that claims the name and is
/// invalid, and an invalid user manifest whose names cannot be read (it might claim any name) are
/// errors, never a guess between files.
public struct ManifestCatalog: Sendable {
  /// A manifest and where it came from: a file's path, or `built-in manifest 'git'`.
  public struct Entry: Sendable, Equatable {
    public var manifest: Manifest
    public var source: String

    public init(manifest: Manifest, source: String) {
      self.manifest = manifest
      self.source = source
    }
  }

  /// A user file that does not load: its errors and, when they can be read, the names it claims.
  struct Broken: Sendable {
    var file: String
    var errors: ManifestErrors
    var names: [String]?
  }

  private var user: [String: [Entry]] = [:]
  private var broken: [Broken] = []
  private var builtins: [String: Entry] = [:]

  /// A catalog of the user files given (path and text, or the reason they could not be read), over
  /// the built-in manifests unless `builtins` is false.
  public init(files: [(path: String, text: Result<String, ManifestErrors>)], builtins: Bool = true) {
    for (path, text) in files.sorted(by: { $0.path < $1.path }) {
      do throws(ManifestErrors) {
        let manifest = try ManifestLoader.parse(try text.get(), file: path)
        let entry = Entry(manifest: manifest, source: path)
        for name in Self.names(of: manifest) { user[name, default: []].append(entry) }
      } catch {
        let names = (try? text.get()).flatMap { ManifestLoader.claimedNames($0, file: path) }
        broken.append(Broken(file: path, errors: error, names: names))
      }
    }
    guard builtins else { return }
    for (file, manifest) in BuiltinManifests.all {
      let names = Self.names(of: manifest)
      // Replaced as a whole by a user manifest claiming any of its names (broken ones included).
      let claimed = names.contains { name in
        user[name] != nil || broken.contains { $0.names?.contains(name) ?? false }
      }
      guard !claimed else { continue }
      let entry = Entry(manifest: manifest, source: "built-in manifest '\(manifest.server)' (\(file))")
      for name in names { self.builtins[name] = entry }
    }
  }

  /// Reads every manifest file of `directory` (a missing directory holds none).
  public static func load(directory: String, builtins: Bool = true) throws(ManifestLookupError)
    -> ManifestCatalog
  {
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
      var isDirectory: ObjCBool = false
      if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
        return ManifestCatalog(files: [], builtins: builtins)
      }
      throw .unreadableDirectory(directory)
    }
    let files = names.filter(isManifestFileName).map { name in
      let path = (directory.hasSuffix("/") ? directory : directory + "/") + name
      return (
        path: path,
        text: Result { () throws(ManifestErrors) -> String in try ManifestLoader.read(path: path) }
      )
    }
    return ManifestCatalog(files: files, builtins: builtins)
  }

  /// Whether a file of the manifests directory is read as a manifest.
  static func isManifestFileName(_ name: String) -> Bool {
    [".yaml", ".yml", ".json"].contains { name.hasSuffix($0) && name.count > $0.count }
  }

  /// The manifest `name` selects: a user manifest that claims it, else a built-in one; nil when none
  /// does. Throws when the answer cannot be trusted (see the type's documentation).
  public func entry(named name: String) throws(ManifestLookupError) -> Entry? {
    if let unknown = broken.first(where: { $0.names == nil }) {
      throw .invalid(unknown.errors, name: name, namesKnown: false)
    }
    if let claimant = broken.first(where: { $0.names?.contains(name) ?? false }) {
      throw .invalid(claimant.errors, name: name, namesKnown: true)
    }
    if let entries = user[name] {
      guard entries.count == 1 else { throw .claimedTwice(name: name, files: entries.map(\.source)) }
      return entries[0]
    }
    return builtins[name]
  }

  /// The user manifest that replaced the built-in manifest `name` belongs to, when that is why
  /// `entry(named: name)` finds nothing.
  public func replacement(ofBuiltin name: String) -> String? {
    guard user[name] == nil, builtins[name] == nil,
      let builtin = BuiltinManifests.builtin(named: name)
    else { return nil }
    for other in Self.names(of: builtin) {
      if let entry = user[other]?.first { return entry.source }
      if let file = broken.first(where: { $0.names?.contains(other) ?? false }) { return file.file }
    }
    return nil
  }

  /// Finds the manifest of a server started by `command`, named `server` by `--server` (or not):
  /// the manifest `server` selects; when `--server` selects none, the one the command's name (see
  /// `CommandName`) selects, the instance keeping the name `server`.
  public func select(server: String?, command: [String]) throws(ManifestLookupError) -> ManifestSelection {
    let commandName = CommandName.name(for: command)
    if let server {
      if let entry = try entry(named: server) {
        return ManifestSelection(
          entry: entry, serverName: ManifestSelection.serverName(explicit: server, manifest: entry.manifest),
          matched: .serverName, lookedUp: [server])
      }
      if !command.isEmpty, commandName != server, let entry = try entry(named: commandName) {
        return ManifestSelection(
          entry: entry, serverName: server, matched: .command(commandName), lookedUp: [server, commandName])
      }
      let names = command.isEmpty || commandName == server ? [server] : [server, commandName]
      return ManifestSelection(
        entry: nil, serverName: server, matched: .none, lookedUp: names, replaced: replacements(of: names))
    }
    guard let entry = try entry(named: commandName) else {
      return ManifestSelection(
        entry: nil, serverName: commandName, matched: .none, lookedUp: [commandName],
        replaced: replacements(of: [commandName]))
    }
    return ManifestSelection(
      entry: entry, serverName: entry.manifest.server, matched: .command(commandName), lookedUp: [commandName]
    )
  }

  /// For each name a built-in manifest would have answered, the user file that replaced it.
  private func replacements(of names: [String]) -> [String] {
    names.compactMap { name in
      replacement(ofBuiltin: name).map {
        "the built-in manifest for '\(name)' is replaced by \($0), which does not claim '\(name)'"
      }
    }
  }
}

/// The manifest a server runs under, how it was found, and the name its grants are matched against.
public struct ManifestSelection: Sendable, Equatable {
  /// How the manifest was found.
  public enum Match: Sendable, Equatable {
    /// `--manifest FILE`.
    case file
    /// By the name `--server` gave.
    case serverName
    /// By the name derived from the command (the associated value).
    case command(String)
    /// No manifest was found.
    case none
  }

  /// The manifest and its source; nil when none was found.
  public var entry: ManifestCatalog.Entry?
  /// The server (instance) name grants, forbids, holds and audit records are matched against.
  public var serverName: String
  public var matched: Match
  /// The names looked up, in order.
  public var lookedUp: [String]
  /// When nothing was found: the built-in manifests user manifests replaced that would have been.
  public var replaced: [String]

  public init(
    entry: ManifestCatalog.Entry?, serverName: String, matched: Match, lookedUp: [String],
    replaced: [String] = []
  ) {
    self.entry = entry
    self.serverName = serverName
    self.matched = matched
    self.lookedUp = lookedUp
    self.replaced = replaced
  }

  /// The selection of `--manifest FILE`, for a server named `server` by `--server` (or not) and
  /// `commandName` by its command.
  public static func file(_ manifest: Manifest, path: String, server: String?) -> ManifestSelection {
    ManifestSelection(
      entry: ManifestCatalog.Entry(manifest: manifest, source: path),
      serverName: server.map { serverName(explicit: $0, manifest: manifest) } ?? manifest.server,
      matched: .file,
      lookedUp: [])
  }

  /// The instance name for an explicit `--server`: itself, except that an alias of the manifest
  /// (`mcp-server-git`) stands for the manifest's own name (`git`).
  public static func serverName(explicit: String, manifest: Manifest) -> String {
    manifest.aliases.contains { $0.utf8.elementsEqual(explicit.utf8) } ? manifest.server : explicit
  }
}

/// Why no manifest can be trusted for a server.
public enum ManifestLookupError: Error, Sendable, CustomStringConvertible {
  /// A user manifest that claims the name, or whose names cannot be read, is invalid.
  case invalid(ManifestErrors, name: String, namesKnown: Bool)
  /// Two or more user manifests claim the name.
  case claimedTwice(name: String, files: [String])
  /// The manifests directory exists but cannot be listed.
  case unreadableDirectory(String)

  public var description: String {
    switch self {
    case .invalid(let errors, let name, let namesKnown):
      let file = errors.errors.first?.file ?? "?"
      let why =
        namesKnown
        ? "claims the name '\(name)' and is invalid"
        : "is invalid, and which servers it is for cannot be read, so it may be the one for '\(name)'"
      return "the manifest \(file) \(why):\n" + errors.errors.map { "  \($0)" }.joined(separator: "\n")
    case .claimedTwice(let name, let files):
      return
        "the manifests \(files.joined(separator: " and ")) both claim the name '\(name)' (as 'server' or in 'aliases'); a name must select one manifest: take it out of all but one"
    case .unreadableDirectory(let path):
      return "cannot read the manifests directory \(path)"
    }
  }
}

extension ManifestCatalog {
  /// Every name that selects `manifest`: its `server`, then its `aliases`.
  static func names(of manifest: Manifest) -> [String] {
    var names = [manifest.server]
    for alias in manifest.aliases where !names.contains(alias) { names.append(alias) }
    return names
  }
}
