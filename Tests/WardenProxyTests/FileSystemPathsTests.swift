import Glibc
import Testing
import WardenCore
import WardenJSON

@testable import WardenProxy

/// Paths resolved as the kernel resolves them, on a real directory tree with real symbolic links.
@Suite("Resolving paths on the file system")
struct FileSystemPathsTests {
  /// A fresh directory with `repos/prod/sub`, `repos/app`, and links inside `repos/app`.
  static func tree() throws -> String {
    var template = Array("/tmp/warden-paths-XXXXXX".utf8CString)
    let made = try #require(mkdtemp(&template))
    let root = String(cString: made)
    for directory in ["repos", "repos/prod", "repos/prod/sub", "repos/app"] {
      mkdir(root + "/" + directory, 0o755)
    }
    symlink(root + "/repos/prod", root + "/repos/app/link")
    symlink("../prod/sub", root + "/repos/app/rel")
    symlink("loop", root + "/repos/loop")
    return root
  }

  @Test func plainPathsStayAsTheyAre() throws {
    let root = try Self.tree()
    #expect(FileSystemPaths.resolve(root + "/repos/app") == root + "/repos/app")
    #expect(FileSystemPaths.resolve(root + "/repos/app/./x/../") == root + "/repos/app")
  }

  @Test func linksAreFollowed() throws {
    let root = try Self.tree()
    #expect(FileSystemPaths.resolve(root + "/repos/app/link") == root + "/repos/prod")
    #expect(
      FileSystemPaths.resolve(root + "/repos/app/link/sub/new/file") == root + "/repos/prod/sub/new/file")
    #expect(FileSystemPaths.resolve(root + "/repos/app/rel") == root + "/repos/prod/sub")
  }

  @Test func dotDotAfterALinkClimbsFromItsTarget() throws {
    let root = try Self.tree()
    // Lexically this is repos/app/x; the kernel goes to repos/prod, then up to repos, then x.
    #expect(FileSystemPaths.resolve(root + "/repos/app/link/../x") == root + "/repos/x")
  }

  @Test func missingPartsAreKeptLexically() throws {
    let root = try Self.tree()
    #expect(FileSystemPaths.resolve(root + "/repos/none/a/../b") == root + "/repos/none/b")
  }

  @Test func aLoopCannotBeResolved() throws {
    let root = try Self.tree()
    #expect(FileSystemPaths.resolve(root + "/repos/loop/x") == nil)
  }

  @Test func theManifestDecidesOnBothForms() throws {
    let root = try Self.tree()
    let manifest = Manifest(
      server: "git",
      tools: [
        "git_status": ToolRule(action: "git.read", resources: [try ResourceTemplate("repo:{repo_path|path}")])
      ])
    let call = ToolCall(
      server: "git", agent: "a", tool: "git_status",
      arguments: .object([.init("repo_path", .string(root + "/repos/app/link"))]))
    let scopes = try manifest.scopes(for: call, annotations: nil, resolve: FileSystemPaths.resolver).get()
    #expect(
      scopes.resources.map(\.text) == ["repo:" + root + "/repos/app/link", "repo:" + root + "/repos/prod"])
  }
}

@Suite("Redacted arguments")
struct ArgumentRedactionTests {
  @Test func redactedValuesShowOnlyLengthAndDigest() {
    let arguments = Array(#"{"to":"a@example.com","password":"hunter2","n":1}"#.utf8)
    let shown = ArgumentRedaction.shown(arguments, redact: ["password"])
    #expect(!shown.contains("hunter2"))
    #expect(shown.hasPrefix(#"{"to":"a@example.com","password":"[redacted: 9 bytes, sha256:"#))
    #expect(shown.hasSuffix(#"]","n":1}"#))
  }

  @Test func withoutRedactionTheBytesAreExact() {
    let text = #"{ "b" : 1.0 , "a" : "\u00e9\/" }"#
    #expect(ArgumentRedaction.shown(Array(text.utf8), redact: []) == text)
  }
}
