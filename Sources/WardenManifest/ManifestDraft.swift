import WardenCore
import WardenJSON

/// A first manifest for a server, written from the tools it lists (`warden manifest init`): every
/// action, resource and `destructive` mark a guess, each with a comment saying why, for a human to
/// review. A pure function of the server's name and its tools: no I/O.
public enum ManifestDraft {
  /// Where the tools came from, for the header.
  public struct Origin: Sendable {
    /// The server's command line.
    public var command: [String]
    /// When the tools were listed, as the header shows it (`2026-11-30 05:48 UTC`).
    public var listedAt: String
    /// The protocol era the server answered in (`per-request (2026-07-28)`, `handshake (2025-11-25)`).
    public var protocolEra: String

    public init(command: [String], listedAt: String, protocolEra: String) {
      self.command = command
      self.listedAt = listedAt
      self.protocolEra = protocolEra
    }
  }

  /// The draft's text, and what it says about the tools.
  public struct Result: Sendable {
    public var text: String
    /// The tools the draft declares, by name.
    public var declared: [String]
    /// The tools it left out (a name no manifest should hold, or one listed twice), with why.
    public var skipped: [(name: String, reason: String)]
  }

  /// Tool names longer than this are left out.
  public static let maximumNameLength = 256

  /// The draft for server `server` (a valid server name) with `tools`, the `tools` array of its
  /// `tools/list` (every page).
  public static func make(server: String, aliases: [String] = [], tools: [JSON], origin: Origin) -> Result {
    var body: [String] = []
    var declared: [String] = []
    var skipped: [(name: String, reason: String)] = []
    var seen: Set<String> = []
    var unnamed = 0
    for value in tools {
      guard let tool = DraftTool(json: value) else {
        unnamed += 1
        continue
      }
      if !DraftYAML.isSafe(tool.name) || tool.name.isEmpty {
        skipped.append((tool.name, "its name is empty or holds control or bidirectional characters"))
        continue
      }
      // YAML reads a key of at most 1,024 characters; MCP asks for names of at most 128.
      if tool.name.unicodeScalars.count > maximumNameLength {
        skipped.append((tool.name, "its name is longer than \(maximumNameLength) characters"))
        continue
      }
      // Swift's String equality is the manifest reader's: two names it would take for one are one.
      guard seen.insert(tool.name).inserted else {
        skipped.append((tool.name, "listed twice"))
        continue
      }
      declared.append(tool.name)
      body += lines(for: tool, server: server)
    }
    var text = header(server: server, origin: origin, count: declared.count).map { "# " + $0 }
      .joined(separator: "\n")
    text = text.split(separator: "\n", omittingEmptySubsequences: false).map {
      $0 == "# " ? "#" : String($0)
    }.joined(separator: "\n")
    text += "\nserver: \(server)\n"
    if !aliases.isEmpty {
      text += "# aliases: the command's name, so that warden run -- COMMAND finds this manifest\n"
      text += "aliases: [\(aliases.map(DraftYAML.quoted).joined(separator: ", "))]\n"
    }
    text += "undeclared: deny\n"
    if unnamed > 0 { text += "# \(unnamed) listed tool(s) without a name left out\n" }
    for (name, reason) in skipped {
      text += "# left out: tool \(DraftYAML.commentText(DraftYAML.quoted(name))): \(reason)\n"
    }
    text += declared.isEmpty ? "tools: {}\n" : "tools:\n" + body.map { $0 + "\n" }.joined()
    return Result(text: text, declared: declared, skipped: skipped)
  }

  /// The manifest entry of one tool, indented under `tools:`.
  static func lines(for tool: DraftTool, server: String) -> [String] {
    var out: [String] = []
    if let summary = tool.summary { out.append("  # " + DraftYAML.commentText(summary)) }
    out.append("  " + DraftYAML.key(tool.name) + ":")
    let guess = DraftResources.guess(for: tool, server: server)
    if let sql = guess.sql, sql.required, let dialect = DraftSQL.dialect(server: server, tool: tool) {
      return out + DraftSQL.lines(argument: sql, dialect: dialect, server: server, others: guess.templates)
        + comments(for: guess)
    }
    let (action, why) = DraftNaming.action(for: tool, server: server)
    out.append("    # action: \(DraftYAML.commentText(why, limit: 200))")
    out.append("    action: \(action)")
    if let sql = guess.sql {
      let why =
        sql.required
        ? "of a dialect warden cannot tell" : "but it is optional, and sql-kind reads a required one"
      out.append("    # '\(sql.name)' looks like SQL \(why): if it is SQLite or PostgreSQL text,")
      out.append("    # write 'sql:' and read '{\(sql.name)|sql-kind}' (see `warden manifest show sqlite`)")
    }
    out += comments(for: guess)
    switch guess.templates.count {
    case 0:
      out.append("    # resource: no argument names what it touches; the whole server, narrow it if one does")
      out.append("    resource: \(DraftYAML.quoted("server:" + server))")
    case 1:
      out.append("    resource: \(DraftYAML.quoted(guess.templates[0].template))")
    default:
      out.append(
        "    resource: [\(guess.templates.map { DraftYAML.quoted($0.template) }.joined(separator: ", "))]")
    }
    let secrets = tool.arguments.map(\.name).filter(DraftResources.isSecret)
    if !secrets.isEmpty {
      out.append("    # redact: these look like secrets, never to be stored, logged or shown in full")
      out.append("    redact: [\(secrets.map(DraftYAML.quoted).joined(separator: ", "))]")
    }
    if tool.isDestructive {
      let why =
        tool.readOnlyHint == nil && tool.destructiveHint == nil
        ? "no annotation: MCP defaults destructiveHint to true"
        : tool.destructiveHint == true
          ? "destructiveHint is true"
          : "not read-only, and destructiveHint is not false (MCP's default is true)"
      out.append("    # destructive: \(why); a human confirms each call")
      out.append("    destructive: true")
    } else if tool.readOnlyHint != true {
      out.append("    # not destructive: destructiveHint is false")
    }
    return out
  }

  /// The comments on the resources of a tool: why each template, and what was not read.
  private static func comments(for guess: DraftResources.Guess) -> [String] {
    var out = guess.templates.map { "    # resource: " + DraftYAML.commentText($0.reason, limit: 200) }
    if !guess.unread.isEmpty {
      let names = guess.unread.map { DraftYAML.commentText($0, limit: 40) }.joined(separator: ", ")
      out.append(
        "    # not read: \(DraftYAML.commentText(names, limit: 200)); add any that selects what it touches")
    }
    if !guess.hostedPaths.isEmpty {
      let names = guess.hostedPaths.joined(separator: ", ")
      out.append("    # not read: \(names), a path in the hosted repository, not on this machine")
    }
    if !guess.unnamable.isEmpty {
      let names = guess.unnamable.map { DraftYAML.commentText(DraftYAML.quoted($0), limit: 40) }
        .joined(separator: ", ")
      out.append("    # cannot be named in a template: \(DraftYAML.commentText(names, limit: 200))")
    }
    return out
  }

  private static func header(server: String, origin: Origin, count: Int) -> [String] {
    let command = DraftYAML.commentText(origin.command.map(shellWord).joined(separator: " "), limit: 200)
    var lines = [
      "DRAFT warden manifest for the server '\(server)', written by `warden manifest init` from the",
      "\(count) tool(s) it listed on \(origin.listedAt), \(origin.protocolEra) era, started as:",
      "  \(command)",
      "",
      "Every action, resource and destructive mark below is a GUESS from the tools' names, argument",
      "names and annotations, which the server itself wrote: a server can call a deleting tool",
      "read-only. Review before you grant anything:",
      "  - action: one name per kind of effect; tools that do the same kind of thing may share one,",
      "    and a tool marked `.read` must really change nothing;",
      "  - resource: what the call touches, read from its arguments; an argument the comments list",
      "    as not read may select something too (a branch, an account);",
      "  - destructive: true holds each call for a human; MCP says a tool without annotations may",
      "    destroy, so only the server's word makes one not destructive;",
      "  - the descriptions in comments are the server's own text, shown to help, not to trust.",
    ]
    if let builtin = BuiltinManifests.builtin(named: server) {
      lines += [
        "A curated manifest for '\(builtin.server)' is installed with warden: `warden manifest show \(builtin.server)`;",
        "compare with it, or use it.",
      ]
    }
    lines += [
      "Then: warden manifest lint FILE, and grant the actions: warden grant --server \(server) \\",
      "  --allow '\(DraftNaming.namespace(server)).read' --on 'RESOURCE' --for 2h --purpose '...'",
    ]
    return lines
  }

  /// `word` as a shell would need it to read it back (single-quoted unless plain).
  private static func shellWord(_ word: String) -> String {
    let plain =
      !word.isEmpty
      && word.unicodeScalars.allSatisfy {
        DraftNaming.isNameScalar($0) || "/=:@+,%".unicodeScalars.contains($0)
      }
    return plain ? word : "'" + word.replacing("'", with: "'\\''") + "'"
  }
}
