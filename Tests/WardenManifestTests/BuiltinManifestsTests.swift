import Foundation
import Testing
import WardenCore
import WardenJSON
import WardenManifest

@Suite struct BuiltinManifestsTests {
  /// `manifests/` at the top of the repository.
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("manifests")

  @Test func embeddedTextsAreTheFilesByteForByte() throws {
    let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
      .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted()
    #expect(
      BuiltinManifests.files.map(\.name) == onDisk, "every file in manifests/ is embedded, and only those")
    for (name, text) in BuiltinManifests.files {
      let file = try Data(contentsOf: Self.directory.appendingPathComponent(name))
      #expect(
        Data(text.utf8) == file,
        "\(name) differs from its literal in Sources/WardenManifest/BuiltinManifests.swift; paste the file in"
      )
    }
  }

  @Test(arguments: BuiltinManifests.files.map(\.name))
  func eachParses(name: String) throws {
    let path = Self.directory.appendingPathComponent(name).path
    let manifest = try ManifestLoader.load(path: path)
    #expect(name == manifest.server + ".yaml")
    #expect(BuiltinManifests.builtin(named: manifest.server) == manifest)
    #expect(manifest.undeclared == .deny)
  }

  @Test func namesAndAliases() throws {
    #expect(
      BuiltinManifests.builtinNames == [
        "fetch", "filesystem", "git", "mailbox", "postgres", "shell", "sqlite", "time",
      ])
    for (alias, server) in [
      ("mcp-server-git", "git"), ("mcp-server-time", "time"), ("mcp-server-fetch", "fetch"),
      ("mcp_server_git", "git"), ("mcp_server_time", "time"), ("mcp_server_fetch", "fetch"),
      ("warden-example-mailbox", "mailbox"), ("mcp-shell-server", "shell"), ("filesystem-mcp", "filesystem"),
      ("mcp-server-sqlite", "sqlite"), ("postgres-mcp", "postgres"),
    ] {
      #expect(BuiltinManifests.builtin(named: alias)?.server == server)
      #expect(BuiltinManifests.text(named: alias) == BuiltinManifests.text(named: server))
    }
    #expect(BuiltinManifests.builtin(named: "nope") == nil)
    #expect(BuiltinManifests.text(named: "nope") == nil)
    #expect(BuiltinManifests.text(named: "git")?.hasPrefix("# Warden manifest for mcp-server-git") == true)
  }

  /// The tools of the real servers, from their `tools/list` (see Tests/e2e/fixtures/mcp-captures).
  @Test func gitCoversEveryToolOfTheServer() throws {
    let git = try #require(BuiltinManifests.builtin(named: "git"))
    let readOnly = [
      "git_status", "git_diff_unstaged", "git_diff_staged", "git_diff", "git_log", "git_show", "git_branch",
    ]
    let all = readOnly + ["git_commit", "git_add", "git_reset", "git_create_branch", "git_checkout"]
    #expect(Set(git.tools.keys) == Set(all))
    for tool in readOnly { #expect(git.tools[tool]?.action == "git.read") }
    #expect(git.tools.values.filter(\.destructive).count == 1)
    #expect(git.tools["git_reset"]?.destructive == true)
    #expect(git.tools["git_add"]?.action == "git.write")
    let arguments: JSON = .object([
      JSON.Member("repo_path", .string("/srv/app/./sub/..")),
      JSON.Member("files", .array([.string("/srv/app/a.txt"), .string("/srv/app/b/../c.txt")])),
    ])
    let add = try #require(git.tools["git_add"])
    let resources = try add.resources.flatMap { try $0.resources(for: arguments, base: add.base ?? git.base) }
    #expect(resources.map(\.text) == ["repo:/srv/app", "file:/srv/app/a.txt", "file:/srv/app/c.txt"])
    for rule in git.tools.values {
      #expect(rule.resources.first?.argumentNames == ["repo_path"])
    }
  }

  @Test func timeFetchAndMailbox() throws {
    let time = try #require(BuiltinManifests.builtin(named: "time"))
    #expect(Set(time.tools.keys) == ["get_current_time", "convert_time"])
    #expect(time.tools.values.allSatisfy { $0.action == "time.read" && $0.resources.isEmpty })

    let fetch = try #require(BuiltinManifests.builtin(named: "fetch"))
    #expect(Set(fetch.tools.keys) == ["fetch"])
    let url: JSON = .object([JSON.Member("url", .string("https://Docs.Python.org./3/"))])
    #expect(
      try fetch.tools["fetch"]?.resources[0].resources(for: url, base: nil).map(\.text) == [
        "host:docs.python.org"
      ])

    let mailbox = try #require(BuiltinManifests.builtin(named: "mailbox"))
    #expect(
      Set(mailbox.tools.keys)
        == [
          "list_messages", "read_message", "move_message", "archive_message", "delete_message",
          "send_message",
        ])
    #expect(mailbox.tools.filter(\.value.destructive).map(\.key) == ["delete_message"])
    let send: JSON = .object([
      JSON.Member("to", .string("Bob@Example.org")), JSON.Member("body", .string("hi")),
    ])
    #expect(
      try mailbox.tools["send_message"]?.resources[0].resources(for: send, base: nil).map(\.text)
        == ["domain:example.org"])
    #expect(mailbox.tools["send_message"]?.redact == ["body"])
  }

  private func scopes(_ manifest: Manifest, _ tool: String, _ json: String) throws -> CallScopes {
    try manifest.scopes(
      for: ToolCall(
        server: manifest.server, agent: "a", tool: tool, arguments: try JSONValue.parse(json).json),
      annotations: nil
    ).get()
  }

  /// mcp-shell-server 1.1.14's one tool (Tests/e2e/test_curated_shell_fs.py checks its tools/list):
  /// every call destructive, on the directory and each word; no read-only program unless a human
  /// lists one in a user manifest.
  @Test func shellHoldsEveryCommand() throws {
    let shell = try #require(BuiltinManifests.builtin(named: "mcp-shell-server"))
    #expect(Set(shell.tools.keys) == ["shell_execute"])
    let rule = try #require(shell.tools["shell_execute"])
    #expect(rule.rules.isEmpty && rule.destructive && rule.action == "shell.run")
    for command in [#"["ls"]"#, #"["cat", "x"]"#, #"["rm", "-rf", "/"]"#] {
      let decided = try scopes(
        shell, "shell_execute", #"{"command": \#(command), "directory": "/srv/a/../b"}"#)
      #expect(decided.destructive && decided.action == "shell.run")
      #expect(decided.resources.first?.text == "dir:/srv/b")
    }
    let ls = try scopes(shell, "shell_execute", #"{"command": ["ls", "-la"], "directory": "/srv"}"#)
    #expect(ls.resources.map(\.text) == ["dir:/srv", "word:ls", "word:-la"])
    #expect(Set(rule.argumentNames) == ["command", "directory"])
    // The example of the header, uncommented, is a valid manifest whose rules make `ls` read-only.
    let text = try #require(BuiltinManifests.text(named: "shell"))
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let start = try #require(lines.firstIndex(of: "#   shell_execute:"))
    let end = try #require(lines[start...].firstIndex(of: "#     action: shell.run"))
    let example = lines[start..<end].map { "  " + $0.dropFirst(4) }.joined(separator: "\n")
    let user = text.replacingOccurrences(of: "\n  shell_execute:", with: "\n" + example)
    let custom = try ManifestLoader.parse(user, file: "shell.yaml")
    #expect(custom.tools["shell_execute"]?.rules.count == 2)
    let read = try scopes(custom, "shell_execute", #"{"command": ["ls", "-la"], "directory": "/srv"}"#)
    #expect(read.action == "shell.read" && !read.destructive)
    #expect(read.resources.map(\.text) == ["dir:/srv", "program:ls"])
    let git = try scopes(
      custom, "shell_execute", #"{"command": ["git", "log", "--oneline"], "directory": "/srv"}"#)
    #expect(git.action == "shell.read")
    for held in [#"["ls", ";", "rm"]"#, #"["git", "log", "--oneline", "-p"]"#, #"["rm", "x"]"#] {
      #expect(try scopes(custom, "shell_execute", #"{"command": \#(held), "directory": "/srv"}"#).destructive)
    }
  }

  /// filesystem-mcp 1.0.2's four tools: every path read, overwrites held, appends not.
  @Test func filesystemReadsEveryPath() throws {
    let fs = try #require(BuiltinManifests.builtin(named: "filesystem-mcp"))
    #expect(Set(fs.tools.keys) == ["list_allowed_directories", "list_directory", "read_file", "write_file"])
    #expect(fs.tools["list_allowed_directories"]?.resources.isEmpty == true)
    for tool in ["list_directory", "read_file", "write_file"] {
      #expect(fs.tools[tool]?.resources.first?.argumentNames == ["path"])
    }
    let read = try scopes(fs, "read_file", #"{"path": "/srv/docs/../secret"}"#)
    #expect(read.action == "fs.read" && read.resources.map(\.text) == ["file:/srv/secret"])
    let append = try scopes(fs, "write_file", #"{"path": "/srv/a", "content": "x", "append": true}"#)
    #expect(append.action == "fs.append" && !append.destructive)
    for other in [#", "append": false"#, #", "append": "true""#, #", "append": 1"#, ""] {
      let write = try scopes(fs, "write_file", #"{"path": "/srv/a", "content": "x"\#(other)}"#)
      #expect(write.action == "fs.write" && write.destructive, "\(other)")
    }
    #expect(throws: ScopeDenial.self) { try scopes(fs, "read_file", #"{"path": "docs/a"}"#) }
    #expect(throws: ScopeDenial.self) { try scopes(fs, "read_file", #"{"path": "~/a"}"#) }
  }
}
