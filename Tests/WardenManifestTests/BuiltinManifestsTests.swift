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
    #expect(BuiltinManifests.builtinNames == ["fetch", "git", "mailbox", "postgres", "sqlite", "time"])
    for (alias, server) in [
      ("mcp-server-git", "git"), ("mcp-server-time", "time"), ("mcp-server-fetch", "fetch"),
      ("mcp_server_git", "git"), ("mcp_server_time", "time"), ("mcp_server_fetch", "fetch"),
      ("warden-example-mailbox", "mailbox"), ("mcp-server-sqlite", "sqlite"), ("postgres-mcp", "postgres"),
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
}
