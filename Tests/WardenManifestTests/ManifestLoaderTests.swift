import Foundation
import Testing
import WardenCore
import WardenJSON
import WardenManifest

@Suite struct ManifestLoaderTests {
  static let full = """
    # a comment
    server: git
    aliases: [mcp-server-git, git-mcp]
    undeclared: confirm
    base: /srv
    tools:
      git_status:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_reset:
        action: git.reset
        resource: 'repo:{repo_path|path}'
        destructive: true
      git_add:
        action: git.write
        resource:
          - "repo:{repo_path|path}"
          - file:{files[]|path}
        redact: [message, files]
        base: /srv/app
      ping:
        action: misc.ping_1-2

    """

  @Test func parsesEveryField() throws {
    let manifest = try ManifestLoader.parse(Self.full, file: "git.yaml")
    let expected = Manifest(
      server: "git", aliases: ["mcp-server-git", "git-mcp"], undeclared: .confirm, base: "/srv",
      tools: [
        "git_status": ToolRule(
          action: "git.read", resources: [try ResourceTemplate("repo:{repo_path|path}")]),
        "git_reset": ToolRule(
          action: "git.reset", resources: [try ResourceTemplate("repo:{repo_path|path}")], destructive: true),
        "git_add": ToolRule(
          action: "git.write",
          resources: [
            try ResourceTemplate("repo:{repo_path|path}"), try ResourceTemplate("file:{files[]|path}"),
          ],
          redact: ["message", "files"], base: "/srv/app"),
        "ping": ToolRule(action: "misc.ping_1-2"),
      ])
    #expect(manifest == expected)
  }

  @Test func defaults() throws {
    let manifest = try ManifestLoader.parse("server: s\ntools: {}\n", file: "m.yaml")
    #expect(manifest == Manifest(server: "s", tools: [:]))
    #expect(manifest.undeclared == .deny)
    #expect(manifest.aliases.isEmpty)
    #expect(manifest.base == nil)
  }

  @Test func aSingleStringStandsForAListOfOne() throws {
    let manifest = try ManifestLoader.parse(
      "server: s\naliases: other\ntools:\n  t:\n    action: a.b\n    redact: body\n", file: "m.yaml")
    #expect(manifest.aliases == ["other"])
    #expect(manifest.tools["t"]?.redact == ["body"])
  }

  @Test func acceptsJSON() throws {
    let json = """
      {
        "server": "mailbox",
        "aliases": ["warden-example-mailbox"],
        "undeclared": "annotations",
        "tools": {
          "send_message": {"action": "mail.send", "resource": "domain:{to|domain}", "redact": ["body"]},
          "delete_message": {"action": "mail.delete", "resource": ["message:{id}"], "destructive": true}
        }
      }
      """
    let manifest = try ManifestLoader.parse(json, file: "m.json")
    #expect(manifest.server == "mailbox")
    #expect(manifest.aliases == ["warden-example-mailbox"])
    #expect(manifest.undeclared == .annotations)
    #expect(manifest.tools["send_message"]?.redact == ["body"])
    #expect(manifest.tools["delete_message"]?.destructive == true)
    let resources = try manifest.tools["send_message"]?.resources[0].resources(
      for: .object([JSON.Member("to", .string("Ann@Example.COM"))]), base: nil)
    #expect(resources == [Resource(text: "domain:example.com")])
  }

  @Test func jsonErrorsHavePositions() {
    let json = """
      {
        "server": "mailbox",
        "tools": {
          "delete_message": {"action": "mail.delete", "destructive": "yes"}
        }
      }
      """
    #expect(problems(json) == ["4:64: 'destructive' must be true or false, not a string"])
  }

  @Test func loadsAFile() throws {
    let path = "/tmp/warden-manifest-test-\(getpid()).yaml"
    try Self.full.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(try ManifestLoader.load(path: path).server == "git")
  }

  @Test func missingFile() {
    #expect(
      throws: ManifestErrors([
        ManifestError(file: "/nonexistent/m.yaml", line: 0, column: 0, message: "no such file")
      ])
    ) {
      try ManifestLoader.load(path: "/nonexistent/m.yaml")
    }
  }

  @Test func notUTF8() throws {
    let path = "/tmp/warden-manifest-latin1-\(getpid()).yaml"
    #expect(FileManager.default.createFile(atPath: path, contents: Data([0x73, 0x3A, 0x20, 0xE9, 0x0A])))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let error = ManifestError(file: path, line: 0, column: 0, message: "the file is not valid UTF-8")
    #expect(throws: ManifestErrors([error])) { try ManifestLoader.load(path: path) }
  }

  @Test func descriptions() {
    #expect(
      ManifestError(file: "a.yaml", line: 3, column: 5, message: "bad").description == "a.yaml:3:5: bad")
    #expect(ManifestError(file: "a.yaml", line: 0, column: 0, message: "bad").description == "a.yaml: bad")
    let both = ManifestErrors([
      ManifestError(file: "a", line: 1, column: 1, message: "x"),
      ManifestError(file: "a", line: 2, column: 1, message: "y"),
    ])
    #expect(both.description == "a:1:1: x\na:2:1: y")
  }
}
