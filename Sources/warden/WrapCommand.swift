import ArgumentParser
import WardenJSON
import WardenManifest
import WardenWrap

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Warden {
  struct Wrap: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "wrap",
      abstract: "Put warden in front of every stdio server of an agent's MCP configuration.",
      discussion: """
        Rewrites CONFIG so each stdio server is launched as
          warden run --server=NAME --agent=AGENT -- COMMAND ARGS...
        NAME is the server's key in the file, AGENT the agent that reads it (claude-desktop, claude-code, cursor, vscode, codex). Only each server's command and args change: env, cwd, every other key, comments (VS Code's JSONC, Codex's TOML) and the file's layout stay byte for byte. Remote (HTTP) servers are left as they are, with a note. Servers already behind warden are left as they are, so running it twice changes nothing.

        Files: Claude Desktop's claude_desktop_config.json, Claude Code's .mcp.json and ~/.claude.json (its mcpServers and each project's), Cursor's mcp.json, VS Code's mcp.json (servers), Codex's config.toml ([mcp_servers.NAME]). The agent is told by the file's name and folder, else by --agent (unwrap also knows the agent a file was wrapped for). Without CONFIG, warden lists the configurations of the agents found for this user and in this folder, and asks which (at a terminal).

        Before the change it writes CONFIG.warden-backup (only if none is there: a backup is never overwritten) and keeps what it wrote in $WARDEN_HOME/wrapped/, so `warden unwrap` can put the file back byte for byte. The file is replaced in one step (a temporary file renamed over it, with the file's mode): never half-written. A symbolic link is refused rather than written through.

        It also pins each wrapped server's agent in $WARDEN_HOME/config.yaml (servers.NAME.agent), so an agent that edits its own MCP configuration cannot change who its calls are decided for. The file's comments are kept; when its shape cannot be edited safely, warden prints the lines to add.

        Examples:
          warden wrap ~/.config/Claude/claude_desktop_config.json
          warden wrap --dry-run .mcp.json          (show the diff, change nothing)
          warden wrap --agent cursor ./mcp.json --json

        Exit status: 0 every stdio server is behind warden (or nothing to do); 1 a stdio server was left as it is (see the notes); 64 usage (no CONFIG without a terminal, an agent that cannot be told); 65 a file that is not valid JSON/TOML, not the agent's shape, a symbolic link, or written in a form warden does not edit (nothing written); 66 CONFIG cannot be read; 73 it cannot be written (left as it was); 78 an invalid $WARDEN_HOME/config.yaml.
        """)

    @OptionGroup var file: WrapFileOptions
    var config: String? { file.config }
    var agent: String? { file.agent }
    var dryRun: Bool { file.dryRun }
    var json: Bool { file.json }

    @Option(
      name: .long,
      help: ArgumentHelp(
        "The warden command written into CONFIG (default: this warden's absolute path, which works where the agent's PATH lacks warden).",
        valueName: "path"))
    var warden: String?

    func run() throws {
      try reportingFailures {
        let path = try WrapCommandSupport.choose(config, verb: "wrap")
        let file = try WrapFiles.read(path)
        let kind = try WrapCommandSupport.agent(agent, path: path)
        let command = warden ?? WrapCommandSupport.wardenPath()
        let result: EditResult
        do { result = try ConfigEditor.wrap(file.bytes, agent: kind, warden: command, file: path) } catch {
          throw CommandFailure("warden: \(error)", status: 65)
        }
        for outcome in result.servers { WrapCommandSupport.note(outcome, verb: "wrap") }
        if dryRun {
          WrapCommandSupport.showDryRun(old: file.bytes, result: result, path: path, agent: kind, json: json)
          return
        }
        var backup: String?
        let home = try CommandEnvironment.home()
        _ = try CommandEnvironment.configuration()  // an invalid config.yaml stops here (78)
        _ = try CommandEnvironment.openStore()  // creates warden's home, private, when there is none
        if result.changed {
          let absolute = WrapFiles.absolute(path)
          let backupPath = path + ".warden-backup"
          if try WrapFiles.createOnce(backupPath, with: file.bytes, mode: file.mode) { backup = backupPath }
          try WrapFiles.saveRecord(
            .init(
              path: absolute, agent: kind.rawValue, originalDigest: WrapFiles.sha256(file.bytes),
              wroteDigest: WrapFiles.sha256(result.bytes)), original: file.bytes, home: home)
          try WrapFiles.replace(path, with: result.bytes, mode: file.mode)
        }
        let pinned = try WrapCommandSupport.pin(
          result.servers.filter { $0.status == .wrapped || $0.status == .alreadyWrapped }.map(\.name),
          agent: kind,
          home: home)
        if json {
          printLine(
            WrapCommandSupport.json(
              path: path, agent: kind, result: result,
              extra: [
                ("backup", backup.map { .string($0) } ?? .null()),
                ("pinned", .array(pinned.map { .string($0) })),
              ]))
        } else {
          for outcome in result.servers where outcome.status == .wrapped {
            printLine("wrapped \(outcome.name) (\(outcome.location)) as agent \(kind.rawValue)")
          }
          if !result.changed { printLine("\(path): nothing to change") }
          if let backup { printLine("backup: \(backup)") }
        }
        if result.servers.contains(where: { $0.status == .skipped }) { throw ExitCode(1) }
      }
    }
  }

  struct Unwrap: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "unwrap",
      abstract: "Take warden out of an agent's MCP configuration again.",
      discussion: """
        When CONFIG is exactly as `warden wrap` left it, it is put back as it was before, byte for byte (from the copy kept in $WARDEN_HOME/wrapped/). Otherwise warden's part is taken out of each server launched as `warden run ... -- COMMAND ARGS...`: the command is COMMAND again and the args ARGS, and everything else in the file stays as it is now. Pins in $WARDEN_HOME/config.yaml are left in place (they apply only to servers run through warden).

        Examples:
          warden unwrap ~/.config/Claude/claude_desktop_config.json
          warden unwrap --dry-run .mcp.json

        Exit status: 0 done (or nothing to do); 64 usage; 65 a file that is not valid JSON/TOML or not the agent's shape, or a symbolic link (nothing written); 66 CONFIG cannot be read; 73 it cannot be written (left as it was).
        """)

    @OptionGroup var file: WrapFileOptions
    var config: String? { file.config }
    var agent: String? { file.agent }
    var dryRun: Bool { file.dryRun }
    var json: Bool { file.json }

    func run() throws {
      try reportingFailures {
        let path = try WrapCommandSupport.choose(config, verb: "unwrap")
        let file = try WrapFiles.read(path)
        let kind = try WrapCommandSupport.agent(agent, path: path)
        let home = try CommandEnvironment.home()
        let absolute = WrapFiles.absolute(path)
        var restored = false
        var result: EditResult
        if let (record, original) = WrapFiles.loadRecord(home: home, config: absolute),
          record.wroteDigest == WrapFiles.sha256(file.bytes)
        {
          // As wrap left it: the bytes from before, and (after a second wrap) what is still wrapped
          // in them taken out too.
          do {
            let servers = try ConfigEditor.servers(file.bytes, agent: kind, file: path)
            result = try ConfigEditor.unwrap(original, agent: kind, file: path)
            restored = !result.changed
            result.servers = servers.map {
              var outcome = $0
              outcome.status = $0.status == .alreadyWrapped ? .unwrapped : .notWrapped
              outcome.note = nil
              return outcome
            }
          } catch {
            throw CommandFailure("warden: \(error)", status: 65)
          }
        } else {
          do { result = try ConfigEditor.unwrap(file.bytes, agent: kind, file: path) } catch {
            throw CommandFailure("warden: \(error)", status: 65)
          }
        }
        for outcome in result.servers { WrapCommandSupport.note(outcome, verb: "unwrap") }
        let changed = result.bytes != file.bytes
        if dryRun {
          WrapCommandSupport.showDryRun(old: file.bytes, result: result, path: path, agent: kind, json: json)
          return
        }
        if changed { try WrapFiles.replace(path, with: result.bytes, mode: file.mode) }
        if restored {
          WrapFiles.removeRecord(home: home, config: absolute)
          // The backup beside the file is the same bytes: no longer needed.
          if let backup = try? WrapFiles.read(path + ".warden-backup"), backup.bytes == result.bytes {
            unlink(path + ".warden-backup")
          }
        }
        if json {
          printLine(
            WrapCommandSupport.json(
              path: path, agent: kind, result: result, extra: [("restored", .bool(restored))]))
        } else {
          if restored {
            printLine("\(path): restored as it was before warden wrap, byte for byte")
          } else {
            for outcome in result.servers where outcome.status == .unwrapped {
              printLine("unwrapped \(outcome.name) (\(outcome.location))")
            }
          }
          if !changed { printLine("\(path): nothing to change") }
        }
      }
    }
  }
}

/// What `wrap` and `unwrap` share: choosing the file and the agent, notes, JSON, pins.
enum WrapCommandSupport {
  /// `config`, or (without it) one of the agents' configurations found, chosen at the terminal.
  static func choose(_ config: String?, verb: String) throws -> String {
    if let config { return config }
    let found = candidates().filter { access($0.path, F_OK) == 0 }
    guard !found.isEmpty else {
      throw CommandFailure(
        "warden: no agent's MCP configuration found (looked for \(candidates().map(\.path).joined(separator: ", "))); give CONFIG",
        status: 64)
    }
    let list = found.enumerated().map {
      "  \($0.offset + 1). \($0.element.path)  (\($0.element.agent.rawValue))"
    }
    guard isatty(0) == 1 else {
      throw CommandFailure(
        "warden: which configuration? give CONFIG (no terminal to ask at). Found:\n"
          + list.joined(separator: "\n"),
        status: 64)
    }
    printToStandardError("Configurations found:\n" + list.joined(separator: "\n"))
    printToStandardError("Which one to \(verb)? [1-\(found.count)] ", newline: false)
    guard let answer = readLine(), let number = Int(answer.trimmingSpaces), (1...found.count).contains(number)
    else {
      throw CommandFailure("warden: no configuration chosen; nothing changed", status: 64)
    }
    return found[number - 1].path
  }

  /// Where each agent keeps its MCP configuration on Linux, for this user and in this folder.
  static func candidates() -> [(path: String, agent: AgentKind)] {
    let variables = CommandEnvironment.variables
    let home = variables["HOME"] ?? ""
    let configHome = variables["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
    let codexHome = variables["CODEX_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.codex"
    return [
      (configHome + "/Claude/claude_desktop_config.json", .claudeDesktop),
      (home + "/.claude.json", .claudeCode),
      (".mcp.json", .claudeCode),
      (home + "/.cursor/mcp.json", .cursor),
      (".cursor/mcp.json", .cursor),
      (configHome + "/Code/User/mcp.json", .vscode),
      (".vscode/mcp.json", .vscode),
      (codexHome + "/config.toml", .codex),
      (".codex/config.toml", .codex),
    ]
  }

  static func agent(_ name: String?, path: String) throws -> AgentKind {
    let known = AgentKind.allCases.map(\.rawValue).joined(separator: ", ")
    if let name {
      guard let kind = AgentKind(rawValue: name) else {
        throw CommandFailure("warden: unknown agent '\(name)' (known: \(known))", status: 64)
      }
      return kind
    }
    if let kind = AgentKind.detect(path: WrapFiles.absolute(path)) { return kind }
    if let kind = candidates().first(where: { WrapFiles.absolute($0.path) == WrapFiles.absolute(path) })?
      .agent
    {
      return kind
    }
    // A file warden wrapped: the agent it was wrapped for (so `unwrap` needs no --agent that `wrap`
    // needed).
    if let home = try? CommandEnvironment.home(),
      let (record, _) = WrapFiles.loadRecord(home: home, config: WrapFiles.absolute(path)),
      let kind = AgentKind(rawValue: record.agent)
    {
      return kind
    }
    throw CommandFailure(
      "warden: cannot tell which agent reads \(path) from its name; give --agent (\(known))", status: 64)
  }

  /// This warden's absolute path: argv[0] made absolute (through PATH when it has no slash), so a
  /// link such as /usr/local/bin/warden stays the link; else the executable itself.
  static func wardenPath() -> String {
    let argument = CommandLine.arguments.first ?? "warden"
    if argument.hasPrefix("/") { return argument }
    if argument.contains("/") { return WrapFiles.absolute(argument) }
    for folder in (CommandEnvironment.variables["PATH"] ?? "").split(separator: ":")
    where folder.hasPrefix("/") {
      let candidate = "\(folder)/\(argument)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return count > 0
      ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "warden"
  }

  static func note(_ outcome: ServerOutcome, verb: String) {
    let name = "\(outcome.name) (\(outcome.location))"
    switch outcome.status {
    case .remote, .skipped:
      printToStandardError("warden: \(verb): \(name): \(outcome.note ?? "left as it is")")
    case .alreadyWrapped where verb == "wrap":
      printToStandardError("warden: \(verb): \(name): already behind warden; left as it is")
    default: break
    }
  }

  /// `--dry-run`: the change as a unified diff (in the JSON object with `--json`), nothing written.
  static func showDryRun(old: [UInt8], result: EditResult, path: String, agent: AgentKind, json: Bool) {
    let diff = LineDiff.unified(old: old, new: result.bytes, oldName: path, newName: path)
    if json {
      printLine(Self.json(path: path, agent: agent, result: result, extra: [("diff", .string(diff))]))
    } else if !diff.isEmpty {
      _ = Array(diff.utf8).withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    } else {
      printToStandardError("warden: \(path): nothing to change")
    }
  }

  static func json(path: String, agent: AgentKind, result: EditResult, extra: [(String, JSONValue)]) -> String
  {
    let servers = result.servers.map { outcome in
      JSONValue.object([
        ("name", .string(outcome.name)), ("location", .string(outcome.location)),
        ("status", .string(outcome.status.rawValue)), ("note", outcome.note.map { .string($0) } ?? .null()),
      ])
    }
    return JSONValue.object(
      [
        ("file", .string(path)), ("agent", .string(agent.rawValue)), ("changed", .bool(result.changed)),
        ("servers", .array(servers)),
      ] + extra
    ).text(pretty: true)
  }

  /// Pins `agent` for each server in `$WARDEN_HOME/config.yaml`; returns the servers pinned now
  /// or already. Conflicts and files that cannot be edited are said on stderr.
  static func pin(_ servers: [String], agent: AgentKind, home: String) throws -> [String] {
    let path = home + "/config.yaml"
    var text: String? = (try? WrapFiles.read(path)).map { String(decoding: $0.bytes, as: UTF8.self) }
    let mode = (try? WrapFiles.read(path))?.mode ?? 0o600
    var pinned: [String] = []
    var manual: [String] = []
    var changed = false
    for server in Set(servers).sorted().reversed() {  // each is added first: sorted in the end
      switch ConfigurationPinning.pin(agent: agent.rawValue, server: server, in: text) {
      case .edited(let new):
        text = new
        changed = true
        pinned.append(server)
      case .unchanged:
        pinned.append(server)
      case .conflict(let other):
        printToStandardError(
          "warden: \(path) pins servers.\(server).agent to \(other); left as it is, so its calls are decided for \(other)"
        )
      case .cannotEdit(let lines):
        manual.append(lines)
      }
    }
    if changed, let text { try WrapFiles.replace(path, with: Array(text.utf8), mode: mode) }
    if !manual.isEmpty {
      printToStandardError(
        "warden: cannot edit \(path) safely; add these lines to pin the agent:\nservers:\n" + manual.joined())
    }
    return pinned
  }
}

func printToStandardError(_ message: String, newline: Bool) {
  let text = Array((newline ? message + "\n" : message).utf8)
  _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

extension String {
  var trimmingSpaces: String {
    String(
      drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
  }
}

/// What `warden wrap` and `warden unwrap` both take: the file, its agent, and how to report.
struct WrapFileOptions: ParsableArguments {
  @Argument(help: ArgumentHelp("The agent's MCP configuration file.", valueName: "config"))
  var config: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The agent reading CONFIG: claude-desktop, claude-code, cursor, vscode or codex (default: told by the file's name).",
      valueName: "agent"))
  var agent: String?

  @Flag(name: .long, help: "Print the change as a unified diff and change nothing.")
  var dryRun = false

  @Flag(name: .long, help: "Print what was done as one JSON object.")
  var json = false
}
