/// What became of one server of a configuration file.
public struct ServerOutcome: Sendable, Equatable {
  public enum Status: String, Sendable, Equatable {
    /// Now launched through `warden run`.
    case wrapped
    /// It already was: left as it is.
    case alreadyWrapped = "already-wrapped"
    /// A remote (HTTP) server: warden relays stdio only, so it is left as it is.
    case remote
    /// Left as it is for the reason in the note (no command, arguments that are not strings...).
    case skipped
    /// `unwrap`: no longer launched through warden.
    case unwrapped
    /// `unwrap`: it was not launched through warden.
    case notWrapped = "not-wrapped"
  }

  /// The server's key in the file, which `--server` names.
  public var name: String
  /// Where the entry is: `mcpServers`, `projects["/home/me/app"].mcpServers`, `mcp_servers`.
  public var location: String
  public var status: Status
  public var note: String?

  public init(name: String, location: String, status: Status, note: String? = nil) {
    self.name = name
    self.location = location
    self.status = status
    self.note = note
  }
}

/// A configuration file's new bytes and what happened to each server.
public struct EditResult: Sendable, Equatable {
  public var bytes: [UInt8]
  public var servers: [ServerOutcome]

  /// Whether the bytes differ from the file's.
  public var changed: Bool { servers.contains { $0.status == .wrapped || $0.status == .unwrapped } }
}

/// Wraps each stdio server of an agent's MCP configuration in `warden run`, and takes it out again,
/// by editing the file's text: only the `command` and `args` values of the servers it changes are
/// replaced (an `args` is added where there was none); every other byte stays as it was. Every edit
/// is checked by reading the result again and comparing it with what was meant, so a file that
/// would read otherwise is never returned.
public enum ConfigEditor {
  /// The largest file read: an agent's configuration is kilobytes, `~/.claude.json` a few megabytes.
  public static let maximumSize = 64 << 20

  /// The arguments that launch server `name` of `agent` through warden, before its own command.
  public static func prefix(name: String, agent: AgentKind) -> [String] {
    ["run", "--server=\(name)", "--agent=\(agent.rawValue)", "--"]
  }

  /// Whether `command` is warden: its file name is `warden`, or it is `warden` itself.
  public static func isWarden(_ command: String, warden: String? = nil) -> Bool {
    command == warden || command.split(separator: "/").last == "warden"
  }

  /// Whether an entry launches `warden run`: warden's command with `run` first, or any command
  /// with the arguments wrap writes (`run --server=NAME --agent=AGENT --`).
  static func isWrapped(command: String, args: [String], warden: String? = nil) -> Bool {
    guard args.first == "run" else { return false }
    if isWarden(command, warden: warden) { return true }
    return args.count > 4 && args[1].hasPrefix("--server=") && args[2].hasPrefix("--agent=")
      && args[3] == "--"
  }

  /// The new contents of a file with every stdio server launched as
  /// `WARDEN run --server=NAME --agent=AGENT -- COMMAND ARGS...`.
  public static func wrap(_ bytes: [UInt8], agent: AgentKind, warden: String, file: String) throws(WrapError)
    -> EditResult
  {
    let document = try Document.read(bytes, agent: agent, file: file)
    var edits: [Edit] = []
    var outcomes: [ServerOutcome] = []
    var expected = document.plain
    for entry in document.entries {
      var outcome = ServerOutcome(name: entry.name, location: entry.location, status: .skipped)
      if let remote = entry.remote {
        outcome.status = .remote
        outcome.note = "a remote server (\(remote)): warden relays stdio servers only; left as it is"
      } else if let problem = entry.problem {
        outcome.note = problem + "; left as it is"
      } else if let command = entry.command {
        if isWrapped(command: command.text, args: entry.args?.elements.map(\.text) ?? [], warden: warden) {
          outcome.status = .alreadyWrapped
        } else {
          try checkName(entry.name, file: file)
          let added = prefix(name: entry.name, agent: agent)
          let prefixText =
            (added.map(document.quote) + [document.text(command.range)]).joined(separator: ", ")
          edits.append(Edit(range: command.range, text: document.quote(warden)))
          if let args = entry.args {
            let inner = document.text(
              args.range.index(after: args.range.lowerBound)..<(args.range.upperBound - 1))
            var array = "[" + prefixText
            if !args.elements.isEmpty {
              array +=
                inner.first.map { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r\n" } == true ? "," : ", "
            }
            array += inner + "]"
            edits.append(Edit(range: args.range, text: array))
          } else {
            edits.append(
              Edit(range: entry.insertion..<entry.insertion, text: entry.argsMember("[" + prefixText + "]")))
          }
          let newArgs = (added + [command.text] + (entry.args?.elements.map(\.text) ?? [])).map(Plain.string)
          expected = expected.setting(entry.path, command: .string(warden), args: .array(newArgs))
          outcome.status = .wrapped
        }
      } else {
        outcome.note = "no command; left as it is"
      }
      outcomes.append(outcome)
    }
    let result = Edit.apply(edits, to: bytes)
    try document.verify(result, expected: expected, what: "wrapping")
    return EditResult(bytes: result, servers: outcomes)
  }

  /// The new contents of a file with warden's part taken out of every entry launched as
  /// `warden run ... -- COMMAND ARGS...`: `COMMAND` is the command again and `ARGS` the arguments;
  /// an `args` that wrap added is removed again. Everything else stays as it was.
  public static func unwrap(_ bytes: [UInt8], agent: AgentKind, file: String) throws(WrapError) -> EditResult
  {
    let document = try Document.read(bytes, agent: agent, file: file)
    var outcomes: [ServerOutcome] = []
    var planned: [(entry: Entry, separator: Int, command: StringValue, args: ArgsValue)] = []
    var expected = document.plain
    for entry in document.entries {
      var outcome = ServerOutcome(name: entry.name, location: entry.location, status: .notWrapped)
      defer { outcomes.append(outcome) }
      guard entry.remote == nil, let command = entry.command, let args = entry.args,
        isWrapped(command: command.text, args: args.elements.map(\.text))
      else { continue }
      guard let separator = args.elements.firstIndex(where: { $0.text == "--" }),
        separator + 1 < args.elements.count
      else {
        outcome.status = .skipped
        outcome.note = "launched through warden, but not as 'warden run ... -- COMMAND'; left as it is"
        continue
      }
      planned.append((entry, separator, command, args))
      let rest = args.elements[(separator + 1)...].map(\.text)
      let restArgs = Array(rest.dropFirst()).map(Plain.string)
      expected = expected.setting(
        entry.path, command: .string(rest[0]),
        args: restArgs.isEmpty && document.wasInserted(entry, args: args) ? nil : .array(restArgs))
      outcome.status = .unwrapped
    }
    // In place where the text is as wrap left it; written anew where it is not.
    for faithful in [true, false] {
      var edits: [Edit] = []
      for (entry, separator, command, args) in planned {
        let original = args.elements[separator + 1]
        edits.append(Edit(range: command.range, text: document.text(original.range)))
        let remaining = args.elements[(separator + 2)...]
        let open = args.range.lowerBound + 1
        if remaining.isEmpty && document.wasInserted(entry, args: args) {
          edits.append(Edit(range: entry.insertedMember(args.range), text: ""))
        } else if !faithful {
          let texts = remaining.map { document.text($0.range) }
          edits.append(Edit(range: args.range, text: "[" + texts.joined(separator: ", ") + "]"))
        } else if let next = remaining.first {
          // Up to and with the comma after the original command, and the space wrap put after it.
          var end = original.range.upperBound
          while end < next.range.lowerBound && bytes[end] != UInt8(ascii: ",") { end += 1 }
          end += 1
          if end + 1 < bytes.count, bytes[end] == 0x20, ![0x20, 0x09, 0x0A, 0x0D].contains(bytes[end + 1]) {
            end += 1
          }
          edits.append(Edit(range: open..<min(end, next.range.lowerBound), text: ""))
        } else {
          var end = original.range.upperBound
          var probe = end
          while probe < args.range.upperBound - 1, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[probe]) {
            probe += 1
          }
          if bytes[probe] == UInt8(ascii: ",") { end = probe + 1 }
          edits.append(Edit(range: open..<end, text: ""))
        }
      }
      let result = Edit.apply(edits, to: bytes)
      if faithful, (try? document.verify(result, expected: expected, what: "unwrapping")) == nil { continue }
      try document.verify(result, expected: expected, what: "unwrapping")
      return EditResult(bytes: result, servers: outcomes)
    }
    return EditResult(bytes: bytes, servers: outcomes)
  }

  /// The servers of a file and how each is launched, without changing anything.
  public static func servers(_ bytes: [UInt8], agent: AgentKind, file: String) throws(WrapError)
    -> [ServerOutcome]
  {
    try Document.read(bytes, agent: agent, file: file).entries.map { entry in
      if let remote = entry.remote {
        return ServerOutcome(name: entry.name, location: entry.location, status: .remote, note: remote)
      }
      if let command = entry.command,
        isWrapped(command: command.text, args: entry.args?.elements.map(\.text) ?? [])
      {
        return ServerOutcome(name: entry.name, location: entry.location, status: .alreadyWrapped)
      }
      return ServerOutcome(
        name: entry.name, location: entry.location, status: .notWrapped, note: entry.problem)
    }
  }

  /// A server name passed to `warden run --server=`: printable, at most 256 bytes.
  static func checkName(_ name: String, file: String) throws(WrapError) {
    let printable = name.unicodeScalars.allSatisfy {
      $0.value >= 0x20 && $0.value != 0x7F && !(0x80..<0xA0).contains($0.value)
        && !(0x202A...0x202E).contains($0.value) && !(0x2066...0x2069).contains($0.value)
    }
    guard !name.isEmpty, name.utf8.count <= 256, printable else {
      throw WrapError(
        .unsupported,
        "\(file): the server name \"\(HumanKey.shown(name))\" is empty, longer than 256 bytes or holds control characters; rename it first"
      )
    }
  }
}

/// One replacement of bytes.
struct Edit {
  var range: Range<Int>
  var text: String

  /// `bytes` with every edit made (the edits do not overlap).
  static func apply(_ edits: [Edit], to bytes: [UInt8]) -> [UInt8] {
    var result = bytes
    for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
      result.replaceSubrange(edit.range, with: Array(edit.text.utf8))
    }
    return result
  }
}

struct StringValue {
  var text: String
  var range: Range<Int>
}

struct ArgsValue {
  var range: Range<Int>
  var elements: [StringValue]
}

/// One server entry as the editor sees it, in either format.
struct Entry {
  var name: String
  /// The keys from the top of the document to the entry.
  var path: [String]
  var location: String
  var remote: String?
  var problem: String?
  var command: StringValue?
  var args: ArgsValue?
  /// Where an `args` is inserted when there is none.
  var insertion: Int
  /// The text inserted there, given the array's text.
  var argsMember: (String) -> String
  /// The range an inserted `args` occupies, given its array's range.
  var insertedMember: (Range<Int>) -> Range<Int>
}

extension Plain {
  /// This document with `command` and `args` of the object at `path` set (`args` nil: removed).
  func setting(_ path: [String], command: Plain, args: Plain?) -> Plain {
    guard case .object(var pairs) = self else { return self }
    guard let first = path.first else {
      if let index = pairs.firstIndex(where: { $0.key == "command" }) { pairs[index].value = command }
      if let index = pairs.firstIndex(where: { $0.key == "args" }) {
        if let args { pairs[index].value = args } else { pairs.remove(at: index) }
      } else if let args, let index = pairs.firstIndex(where: { $0.key == "command" }) {
        pairs.insert(Pair(("args", args)), at: index + 1)
      }
      return .object(pairs)
    }
    guard let index = pairs.firstIndex(where: { $0.key == first }) else { return self }
    pairs[index].value = pairs[index].value.setting(Array(path.dropFirst()), command: command, args: args)
    return .object(pairs)
  }

  /// Objects with their keys sorted (TOML's tables have no order).
  var sorted: Plain {
    switch self {
    case .object(let pairs): .object(pairs.map { Pair(($0.key, $0.value.sorted)) }.sorted { $0.key < $1.key })
    case .array(let elements): .array(elements.map(\.sorted))
    default: self
    }
  }
}
