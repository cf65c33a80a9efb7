import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Warden {
  struct Manifest: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "manifest",
      abstract: "Check manifest files, or print the manifests installed with warden.",
      discussion: """
        A manifest says what each tool of one MCP server means: the action a call performs and the \
        resources it touches, computed from its arguments. It is YAML (or JSON):

          server: git
          aliases: [mcp-server-git]
          undeclared: deny
          tools:
            git_status:
              action: git.read
              resource: "repo:{repo_path|path}"
            git_reset:
              action: git.reset
              resource: "repo:{repo_path|path}"
              destructive: true

        Start from a built-in one: warden manifest show git > git.yaml
        Or draft one from a server's tools: warden manifest init -- uvx mcp-server-git > git.yaml
        """,
      subcommands: [Lint.self, Show.self, Init.self]
    )
  }
}

extension Warden.Manifest {
  struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "lint",
      abstract: "Check manifest files and report every problem with its line and column.",
      discussion: """
        Each problem goes to stderr as FILE:LINE:COLUMN: error: MESSAGE, each good file to stdout as \
        FILE: ok (N tools, server NAME). With --json, stdout carries one JSON array instead, an object \
        per file: {"file", "ok", "server", "tools"} or {"file", "ok": false, "errors": [{"line", \
        "column", "message"}]}, where line and column are 0 for a problem with the whole file (it \
        cannot be read, say).

        Example:

          $ warden manifest lint manifests/git.yaml mine.yaml
          manifests/git.yaml: ok (12 tools, server git)
          mine.yaml:9:5: error: tool 'git_log' has no 'action'
          mine.yaml:12:18: error: 'destructive' must be true or false, not a string

        Exit status: 0 when every file is valid, 1 when any has an error.
        """
    )

    @Flag(name: .long, help: "Print the results as a JSON array on stdout.")
    var json = false

    @Argument(help: ArgumentHelp("Manifest files (YAML or JSON).", valueName: "file"))
    var files: [String]

    func run() throws {
      var results: [String] = []
      var failed = false
      for file in files {
        do throws(ManifestErrors) {
          let manifest = try ManifestLoader.load(path: file)
          if json {
            results.append(
              "{\"file\":\(JSONText.quoted(file)),\"ok\":true,\"server\":\(JSONText.quoted(manifest.server)),"
                + "\"tools\":\(manifest.tools.count)}")
          } else {
            let count = manifest.tools.count
            print("\(file): ok (\(count) tool\(count == 1 ? "" : "s"), server \(manifest.server))")
          }
        } catch {
          failed = true
          if json {
            let errors = error.errors.map {
              "{\"line\":\($0.line),\"column\":\($0.column),\"message\":\(JSONText.quoted($0.message))}"
            }
            results.append(
              "{\"file\":\(JSONText.quoted(file)),\"ok\":false,\"errors\":[\(errors.joined(separator: ","))]}"
            )
          } else {
            for problem in error.errors {
              let position = problem.line > 0 ? "\(problem.line):\(problem.column): " : " "
              writeToStandardError("\(problem.file):\(position)error: \(problem.message)")
            }
          }
        }
      }
      if json { print("[" + results.joined(separator: ",") + "]") }
      if failed { throw ExitCode(1) }
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show",
      abstract: "Print a manifest installed with warden, as a start for your own.",
      discussion: """
        NAME is a server name or one of its aliases (such as the command's name, mcp-server-git). \
        Built in: \(BuiltinManifests.builtinNames.joined(separator: ", ")).

        Example: warden manifest show git > ~/.local/state/warden/manifests/git.yaml
        """
    )

    @Argument(help: ArgumentHelp("The server's name or alias.", valueName: "name"))
    var name: String

    func run() throws {
      guard let text = BuiltinManifests.text(named: name) else {
        writeToStandardError(
          "warden: no built-in manifest for '\(name)' (built in: "
            + BuiltinManifests.builtinNames.joined(separator: ", ") + ")")
        throw ExitCode(1)
      }
      print(text, terminator: "")
    }
  }
}

/// Writes `message` and a newline to stderr, unbuffered.
private func writeToStandardError(_ message: String) {
  let bytes = Array((message + "\n").utf8)
  var offset = 0
  while offset < bytes.count {
    let written = bytes.withUnsafeBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
    if written <= 0 { return }
    offset += written
  }
}
