import Foundation
import Testing
import WardenCore
import WardenManifest

@Suite struct ManifestCatalogTests {
  static let sqlite = """
    server: sqlite
    aliases: [mcp-server-sqlite]
    tools:
      read_query:
        action: db.read
    """
  static let strictGit = """
    server: git
    tools:
      git_status:
        action: git.read
        resource: "repo:{repo_path|path}"
    """

  static func catalog(_ files: [(String, String)], builtins: Bool = true) -> ManifestCatalog {
    ManifestCatalog(files: files.map { (path: $0.0, text: .success($0.1)) }, builtins: builtins)
  }

  /// The lookup error `body` throws, or nil (anything else is a test failure).
  static func lookupError(_ body: () throws -> Void) -> ManifestLookupError? {
    do {
      try body()
      return nil
    } catch let error as ManifestLookupError {
      return error
    } catch {
      Issue.record("not a lookup error: \(error)")
      return nil
    }
  }

  @Test func findsAUserManifestByNameAndByAlias() throws {
    let catalog = Self.catalog([("/m/whatever-file-name.yaml", Self.sqlite)])
    #expect(try catalog.entry(named: "sqlite")?.source == "/m/whatever-file-name.yaml")
    #expect(try catalog.entry(named: "mcp-server-sqlite")?.manifest.server == "sqlite")
    #expect(try catalog.entry(named: "whatever-file-name") == nil)
    #expect(try catalog.entry(named: "mcp-server-time")?.manifest.server == "time")
  }

  @Test func aUserManifestReplacesTheWholeBuiltinOne() throws {
    let catalog = Self.catalog([("/m/git.yaml", Self.strictGit)])
    #expect(try catalog.entry(named: "git")?.source == "/m/git.yaml")
    // Not reachable through its other name: a command line cannot reach around the user's manifest.
    #expect(try catalog.entry(named: "mcp-server-git") == nil)
    #expect(catalog.replacement(ofBuiltin: "mcp-server-git") == "/m/git.yaml")
    let selection = try catalog.select(server: nil, command: ["uvx", "mcp-server-git"])
    #expect(selection.entry == nil)
    #expect(selection.replaced.count == 1)
  }

  @Test func aNameTwoUserManifestsClaimIsAnErrorNamingBoth() {
    let other = "server: sqlite-copy\naliases: [mcp-server-sqlite]\ntools: {}\n"
    let catalog = Self.catalog([("/m/b.yaml", other), ("/m/a.yml", Self.sqlite)])
    let error = Self.lookupError { _ = try catalog.entry(named: "mcp-server-sqlite") }
    guard case .claimedTwice(let name, let files) = error else {
      Issue.record("expected claimedTwice, got \(String(describing: error))")
      return
    }
    #expect(name == "mcp-server-sqlite" && files == ["/m/a.yml", "/m/b.yaml"])
    #expect(error?.description.contains("/m/a.yml and /m/b.yaml") == true)
    // Names only one of them claims are found.
    #expect((try? catalog.entry(named: "sqlite"))??.source == "/m/a.yml")
    // So is a name a user manifest and a built-in one share: the user's wins, no error.
    #expect(
      (try? Self.catalog([("/m/t.yaml", "server: time\ntools: {}\n")]).entry(named: "time"))??.source
        == "/m/t.yaml")
  }

  @Test func anInvalidManifestWhoseNamesAreKnownBreaksOnlyThoseNames() throws {
    let broken = "server: shell\naliases: [mcp-shell-server]\ntools:\n  run:\n    acton: shell.run\n"
    let catalog = Self.catalog([("/m/shell.yaml", broken), ("/m/sqlite.yaml", Self.sqlite)])
    #expect(try catalog.entry(named: "sqlite")?.source == "/m/sqlite.yaml")
    #expect(try catalog.entry(named: "git")?.manifest.server == "git")
    let error = Self.lookupError { _ = try catalog.entry(named: "mcp-shell-server") }
    guard case .invalid(let errors, "mcp-shell-server", namesKnown: true) = error else {
      Issue.record("expected invalid, got \(String(describing: error))")
      return
    }
    #expect(errors.errors.first?.file == "/m/shell.yaml")
    #expect(error?.description.contains("acton") == true)
  }

  @Test(arguments: [
    "server: shell\ntools: [\n",  // not YAML
    "tools: {}\n",  // no server
    "server: [a, b]\ntools: {}\n",  // not a name
    "server: a\nserver: b\ntools: {}\n",  // twice
    "server: a\naliases: [git, 'bad name']\ntools: {}\n",  // an alias that is not a name
  ])
  func anInvalidManifestWhoseNamesCannotBeReadBreaksEveryLookup(text: String) {
    let catalog = Self.catalog([("/m/broken.yaml", text), ("/m/sqlite.yaml", Self.sqlite)])
    for name in ["sqlite", "git", "nothing-at-all"] {
      let error = Self.lookupError { _ = try catalog.entry(named: name) }
      guard case .invalid(let errors, name, namesKnown: false) = error else {
        Issue.record("\(name): expected invalid with unknown names, got \(String(describing: error))")
        continue
      }
      #expect(errors.errors.first?.file == "/m/broken.yaml")
      #expect(error?.description.contains("may be the one for '\(name)'") == true)
    }
  }

  @Test func anUnreadableFileBreaksEveryLookup() {
    let unreadable = ManifestErrors([
      ManifestError(file: "/m/x.yaml", line: 0, column: 0, message: "cannot read")
    ])
    let catalog = ManifestCatalog(files: [(path: "/m/x.yaml", text: .failure(unreadable))])
    #expect(Self.lookupError { _ = try catalog.entry(named: "git") } != nil)
  }

  @Test func selectsByServerThenByCommandKeepingTheInstanceName() throws {
    let catalog = Self.catalog([("/m/sqlite.yaml", Self.sqlite)])
    let command = ["uvx", "mcp-server-sqlite", "--db-path", "prod.db"]
    // No manifest is named db-prod: the command's selects one, and grants are for db-prod.
    let prod = try catalog.select(server: "db-prod", command: command)
    #expect(prod.entry?.manifest.server == "sqlite")
    #expect(prod.serverName == "db-prod")
    #expect(prod.matched == .command("mcp-server-sqlite"))
    #expect(prod.lookedUp == ["db-prod", "mcp-server-sqlite"])
    // The manifest's name or an alias as --server: grants are for the manifest's name.
    #expect(try catalog.select(server: "sqlite", command: command).serverName == "sqlite")
    let alias = try catalog.select(server: "mcp-server-sqlite", command: command)
    #expect(alias.serverName == "sqlite" && alias.matched == .serverName)
    // No --server: the command's name, and the manifest's name for grants.
    let plain = try catalog.select(server: nil, command: command)
    #expect(plain.serverName == "sqlite" && plain.matched == .command("mcp-server-sqlite"))
    // Nothing found: the instance keeps its name, the command's when there is no --server.
    let none = try catalog.select(server: "db-prod", command: ["python", "server.py"])
    #expect(none.entry == nil && none.serverName == "db-prod" && none.lookedUp == ["db-prod", "server"])
    #expect(try catalog.select(server: nil, command: ["python", "server.py"]).serverName == "server")
    // warden check without a command looks up --server alone.
    #expect(try catalog.select(server: "db-prod", command: []).entry == nil)
  }

  @Test func aManifestNamedAfterTheInstanceBeatsTheCommand() throws {
    // An agent that can edit the command line (not $WARDEN_HOME) renames its shell server's command
    // after the git server: the manifest the human named after the instance is still the one used.
    let shell = "server: shell-prod\ntools:\n  run_command:\n    action: shell.run\n    destructive: true\n"
    let catalog = Self.catalog([("/m/shell.yaml", shell)])
    let selection = try catalog.select(server: "shell-prod", command: ["/tmp/project/mcp-server-git"])
    #expect(selection.entry?.source == "/m/shell.yaml")
    #expect(selection.serverName == "shell-prod")
    // And when only the command selects, the instance keeps its name: grants written for 'git' do
    // not follow a manifest to another instance.
    let renamed = try Self.catalog([]).select(server: "notes", command: ["/tmp/project/mcp-server-git"])
    #expect(renamed.entry?.manifest.server == "git")
    #expect(renamed.serverName == "notes")
  }

  @Test func anExplicitFileKeepsTheOldNamingRule() throws {
    let manifest = try ManifestLoader.parse(Self.sqlite, file: "s.yaml")
    #expect(ManifestSelection.file(manifest, path: "s.yaml", server: nil).serverName == "sqlite")
    #expect(
      ManifestSelection.file(manifest, path: "s.yaml", server: "mcp-server-sqlite").serverName == "sqlite")
    #expect(ManifestSelection.file(manifest, path: "s.yaml", server: "db-dev").serverName == "db-dev")
  }

  @Test func loadsEveryManifestFileOfADirectory() throws {
    let directory = NSTemporaryDirectory() + "warden-catalog-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(try ManifestCatalog.load(directory: directory).entry(named: "git")?.manifest.server == "git")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try Self.sqlite.write(toFile: directory + "/db.yml", atomically: true, encoding: .utf8)
    try #"{"server": "weather", "aliases": ["weather-mcp"], "tools": {}}"#.write(
      toFile: directory + "/w.json", atomically: true, encoding: .utf8)
    try "not a manifest".write(toFile: directory + "/README.md", atomically: true, encoding: .utf8)
    try "server: [".write(toFile: directory + "/old.yaml.bak", atomically: true, encoding: .utf8)
    let catalog = try ManifestCatalog.load(directory: directory)
    #expect(try catalog.entry(named: "mcp-server-sqlite")?.source == directory + "/db.yml")
    #expect(try catalog.entry(named: "weather-mcp")?.source == directory + "/w.json")
    try "server: [".write(toFile: directory + "/new.yaml", atomically: true, encoding: .utf8)
    let broken = try ManifestCatalog.load(directory: directory)
    #expect(
      Self.lookupError { _ = try broken.entry(named: "weather") }?.description.contains("new.yaml") == true)
  }
}
