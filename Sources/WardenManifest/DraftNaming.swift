import WardenCore

/// The names a draft guesses: the server's, from its command, and each tool's action, from the
/// tool's name and annotations.
public enum DraftNaming {
  /// The server name for a draft of `command`: the name of the installed manifest the command's name
  /// selects (`uvx mcp-server-git` is `git`), else the command's name (see `CommandName`) without
  /// the usual `mcp-server-` / `-mcp` decoration (`python -m mcp_server_time` is `time`), made a
  /// valid server name. Empty when nothing of it is usable.
  public static func serverName(for command: [String]) -> String {
    let name = CommandName.name(for: command)
    if let builtin = BuiltinManifests.builtin(named: name) { return builtin.server }
    var text = Substring(name.lowercased())
    for prefix in ["mcp-server-", "mcp_server_", "server-", "mcp-", "mcp_"] where text.hasPrefix(prefix) {
      text = text.dropFirst(prefix.count)
      break
    }
    for suffix in ["-mcp-server", "_mcp_server", "-mcp", "_mcp", "-server", "_server"]
    where text.hasSuffix(suffix) {
      text = text.dropLast(suffix.count)
      break
    }
    let cleaned = String(text.unicodeScalars.filter(isNameScalar).map(Character.init))
    if cleaned.isEmpty || cleaned.first == "." { return sanitized(name) }
    return cleaned
  }

  /// Whether `name` may be a manifest's `server` or alias: letters, digits, `_`, `.` and `-`.
  public static func isValidServerName(_ name: String) -> Bool {
    ManifestReader.isName(name)
  }

  /// `name` with every character a server name cannot hold dropped.
  public static func sanitized(_ name: String) -> String {
    String(name.unicodeScalars.filter(isNameScalar).map(Character.init))
  }

  /// A character of a server name: letters, digits, `_`, `.` and `-` (ASCII).
  static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
      || scalar == "_" || scalar == "." || scalar == "-"
  }

  /// The words of a name, lowercased: split at ASCII punctuation and spaces, and where a lowercase
  /// letter meets an uppercase one (`deleteMessage` is `delete`, `message`). Non-ASCII letters stay
  /// in their word (`café` is one word, which no action can hold).
  static func words(_ name: String) -> [String] {
    var words: [String] = []
    var current = ""
    var previousLower = false
    for scalar in name.unicodeScalars {
      let isUpper = ("A"..."Z").contains(scalar)
      let isSeparator = scalar.isASCII && !isUpper && !isASCIIAlphanumeric(scalar)
      if isSeparator || (isUpper && previousLower) {
        if !current.isEmpty { words.append(current) }
        current = ""
      }
      if !isSeparator { current.unicodeScalars.append(isUpper ? Unicode.Scalar(scalar.value + 32)! : scalar) }
      previousLower = !isSeparator && !isUpper
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
  }

  /// Whether a word can be an action's segment.
  static func isActionWord(_ word: String) -> Bool {
    !word.isEmpty && word.unicodeScalars.allSatisfy(isASCIIAlphanumeric)
  }

  /// Verbs a tool name commonly starts or ends with; the first of them in the name is its verb.
  static let verbs: Set<String> = [
    "add", "append", "apply", "approve", "archive", "assign", "attach", "backup", "branch", "call", "cancel",
    "checkout", "clear", "clone", "close", "commit", "comment", "compile", "convert", "copy", "create",
    "delete", "deploy", "describe", "destroy", "diff", "disable", "download", "drop", "edit", "enable",
    "execute", "exec", "explain", "export", "fetch", "find", "fork", "get", "import", "insert", "install",
    "invite", "kill", "label", "list", "lock", "log", "merge", "modify", "move", "open", "patch", "pull",
    "purge", "push", "put", "query", "read", "rebase", "reject", "release", "remove", "rename", "reply",
    "reset", "restart", "restore", "revert", "run", "save", "schedule", "search", "send", "set", "share",
    "show", "start", "stop", "submit", "tag", "trigger", "truncate", "unlock", "update", "upload", "upsert",
    "view", "write",
  ]

  /// The action of `tool` on `server`, and why: `<server>.read` for a tool the server says is
  /// read-only, else `<server>.<verb>` with the verb from its name (`git_commit` is `git.commit`),
  /// `<server>.write` when the name has no usable word.
  static func action(for tool: DraftTool, server: String) -> (action: String, reason: String) {
    let prefix = namespace(server)
    if tool.readOnlyHint == true {
      return (prefix + ".read", "readOnlyHint is true")
    }
    let serverWords = Set(words(server) + ["mcp"])
    let rest = words(tool.name).filter { !serverWords.contains($0) && isActionWord($0) }
    if let verb = rest.first(where: verbs.contains) {
      let note =
        readVerbs.contains(verb) ? "; it reads like a read, but the server does not say it is read-only" : ""
      return (prefix + "." + verb, "the verb of its name, '\(verb)'\(note)")
    }
    if let first = rest.first {
      return (prefix + "." + first, "the first word of its name, '\(first)'; rename it to what the tool does")
    }
    return (prefix + ".write", "its name has no usable word, and it is not read-only")
  }

  /// The server's name as the first segments of its actions: only the characters an action's
  /// segment may hold (a server name may also hold `.`, which separates segments).
  public static func namespace(_ server: String) -> String {
    let segments = server.split(separator: ".").map { String($0.unicodeScalars.filter(isActionScalar)) }
    let joined = segments.filter { !$0.isEmpty }.joined(separator: ".")
    return joined.isEmpty ? "server" : joined
  }

  /// Verbs that sound like reads, which still are not `.read` unless the server says so.
  static let readVerbs: Set<String> = [
    "describe", "diff", "explain", "fetch", "find", "get", "list", "log", "query", "read", "search", "show",
    "view",
  ]

  static func isActionScalar(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
      || scalar == "_" || scalar == "-"
  }

  /// The thing a tool acts on, from its name without the server's words and the verb:
  /// `delete_message` is `message`, `list_messages` is `message`.
  static func noun(for tool: DraftTool, server: String) -> String? {
    let serverWords = Set(words(server) + ["mcp"])
    let rest = words(tool.name).filter {
      !serverWords.contains($0) && !verbs.contains($0) && isActionWord($0)
    }
    return rest.first.map(singular)
  }

  /// A plural word's singular, for the common English plurals only.
  static func singular(_ word: String) -> String {
    if word.hasSuffix("ies"), word.count > 4 { return String(word.dropLast(3)) + "y" }
    if word.hasSuffix("sses") || word.hasSuffix("xes") || word.hasSuffix("ches") {
      return String(word.dropLast(2))
    }
    if word.hasSuffix("s"), !word.hasSuffix("ss"), !word.hasSuffix("us"), word.count > 3 {
      return String(word.dropLast())
    }
    return word
  }
}
