import TOMLKit
import WardenJSON

/// A configuration file read for editing: its server entries with the byte ranges of their values,
/// and the whole document as plain data to check an edit against.
struct Document {
  var bytes: [UInt8]
  var agent: AgentKind
  var file: String
  var entries: [Entry] = []
  var plain: Plain

  static func read(_ bytes: [UInt8], agent: AgentKind, file: String) throws(WrapError) -> Document {
    guard bytes.count <= ConfigEditor.maximumSize else {
      throw WrapError(
        .malformed, "\(file): larger than \(ConfigEditor.maximumSize >> 20) MiB; not an MCP configuration")
    }
    switch agent.format {
    case .json, .jsonWithComments: return try readJSON(bytes, agent: agent, file: file)
    case .toml: return try readTOML(bytes, agent: agent, file: file)
    }
  }

  func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

  /// `text` as a string literal of the file's language.
  func quote(_ text: String) -> String {
    agent.format == .toml ? Self.tomlQuoted(text) : JSONText.quoted(text)
  }

  /// Reads `result` again and fails unless it is `expected`.
  func verify(_ result: [UInt8], expected: Plain, what: String) throws(WrapError) {
    let again: Document
    do { again = try Document.read(result, agent: agent, file: file) } catch {
      throw WrapError(
        .unsupported, "\(file): \(what) it would not leave a valid file (\(error)); left as it is")
    }
    let same = agent.format == .toml ? again.plain.sorted == expected.sorted : again.plain == expected
    guard same else {
      throw WrapError(
        .unsupported, "\(file): \(what) it would change more than the servers' commands; left as it is")
    }
  }

  /// Whether `args` is one wrap added (right after the command, compact), so unwrap removes it.
  func wasInserted(_ entry: Entry, args: ArgsValue) -> Bool {
    guard let command = entry.command, let first = args.elements.first, let last = args.elements.last,
      first.range.lowerBound == args.range.lowerBound + 1, last.range.upperBound == args.range.upperBound - 1
    else { return false }
    let member = entry.insertedMember(args.range)
    switch agent.format {
    case .toml:
      return member.lowerBound == entry.insertion && entry.insertion >= command.range.upperBound
    case .json, .jsonWithComments:
      return member.lowerBound == command.range.upperBound
        && text(command.range.upperBound..<args.range.lowerBound) == ", \"args\": "
    }
  }

  /// A TOML basic string.
  static func tomlQuoted(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case let control where control.value < 0x20 || control.value == 0x7F:
        let hex = String(control.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  // MARK: - JSON

  static func readJSON(_ bytes: [UInt8], agent: AgentKind, file: String) throws(WrapError) -> Document {
    let root = try JSONSpan.parse(bytes, comments: agent.format == .jsonWithComments, file: file)
    var document = Document(bytes: bytes, agent: agent, file: file, plain: root.plain)
    guard root.members != nil else {
      throw WrapError(.malformed, "\(file): not an MCP configuration: the top level is not an object")
    }
    let key = agent.serversKey
    if let servers = root.member(key) {
      try document.collectJSON(servers, path: [key], location: key)
    } else if agent == .vscode, root.member("mcpServers") != nil {
      throw WrapError(
        .malformed,
        "\(file): has 'mcpServers' where VS Code's mcp.json has 'servers': give --agent for the agent that reads it"
      )
    } else if root.member("servers") != nil, root.member("mcpServers") == nil {
      throw WrapError(
        .malformed,
        "\(file): has 'servers' where \(agent.rawValue)'s file has 'mcpServers': VS Code's? then give --agent vscode"
      )
    }
    if agent == .claudeCode, let projects = root.member("projects") {
      guard let members = projects.value.members else {
        throw WrapError(.malformed, "\(file): 'projects' is not an object")
      }
      for project in members {
        guard let servers = project.value.member(key) else { continue }
        try document.collectJSON(
          servers, path: ["projects", project.key, key],
          location: "projects[\(JSONText.quoted(project.key))].\(key)")
      }
    }
    return document
  }

  mutating func collectJSON(_ servers: JSONSpan.Member, path: [String], location: String) throws(WrapError) {
    guard let members = servers.value.members else {
      throw WrapError(
        .malformed,
        "\(file):\(WrapError.line(of: servers.keyRange.lowerBound, in: bytes)): '\(servers.key)' is not an object"
      )
    }
    for member in members {
      let after = member.value.member("command")?.value.range.upperBound ?? member.value.range.lowerBound
      var entry = Entry(
        name: member.key, path: path + [member.key], location: location, insertion: after,
        argsMember: { ", \"args\": " + $0 },
        insertedMember: { after..<$0.upperBound })
      defer { entries.append(entry) }
      guard member.value.members != nil else {
        entry.problem = "not an object"
        continue
      }
      let fields = member.value
      let type = fields.member("type")?.value.string
      if let type, ["http", "sse", "streamable-http", "streamableHttp", "ws", "websocket"].contains(type) {
        entry.remote = "type \(type)"
        continue
      }
      guard let command = fields.member("command") else {
        if fields.member("url") != nil { entry.remote = "url" } else { entry.problem = "no command" }
        continue
      }
      guard let text = command.value.string else {
        entry.problem = "its command is not a string"
        continue
      }
      entry.command = StringValue(text: text, range: command.value.range)
      if let args = fields.member("args") {
        guard let elements = args.value.elements,
          elements.allSatisfy({ $0.string != nil })
        else {
          entry.problem = "its args is not a list of strings"
          continue
        }
        entry.args = ArgsValue(
          range: args.value.range, elements: elements.map { StringValue(text: $0.string!, range: $0.range) })
      }
    }
  }

  // MARK: - TOML

  static func readTOML(_ bytes: [UInt8], agent: AgentKind, file: String) throws(WrapError) -> Document {
    if let nul = bytes.firstIndex(of: 0) {
      throw WrapError(
        .malformed, "\(file):\(WrapError.line(of: nul, in: bytes)): a NUL byte; not a TOML file")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw WrapError(.malformed, "\(file): not valid UTF-8")
    }
    let table: TOMLTable
    do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
      throw WrapError(.malformed, "\(file):\(error.source.begin.line): not valid TOML: \(error.description)")
    } catch {
      throw WrapError(.malformed, "\(file): not valid TOML: \(error)")
    }
    let statements = try TOMLStatements.scan(bytes, file: file)
    var document = Document(bytes: bytes, agent: agent, file: file, plain: plain(table))
    let key = agent.serversKey
    guard let serversValue = table[key] else { return document }
    guard let servers = serversValue.table else {
      throw WrapError(.malformed, "\(file): '\(key)' is not a table of servers")
    }
    func statement(_ name: String, _ field: String) -> TOMLStatements.KeyValue? {
      statements.keyValues.first { !$0.inArrayTable && $0.table + $0.key == [key, name, field] }
    }
    func firstSeen(_ name: String) -> Int {
      let header = statements.headers.first { Array($0.keys.prefix(2)) == [key, name] }?.range.lowerBound
      let value = statements.keyValues.first { Array(($0.table + $0.key).prefix(2)) == [key, name] }?.line
        .lowerBound
      return min(header ?? Int.max, value ?? Int.max)
    }
    for name in servers.keys.sorted(by: { firstSeen($0) < firstSeen($1) }) {
      if name.contains("\0") { throw WrapError(.unsupported, "\(file): a server name holds a NUL character") }
      var entry = Entry(
        name: name, path: [key, name], location: key, insertion: 0, argsMember: { $0 },
        insertedMember: { $0 })
      defer { document.entries.append(entry) }
      guard let server = servers[name]?.table else {
        entry.problem = "not a table"
        continue
      }
      guard let command = server["command"] else {
        if server["url"] != nil { entry.remote = "url" } else { entry.problem = "no command" }
        continue
      }
      guard let commandText = command.string else {
        entry.problem = "its command is not a string"
        continue
      }
      guard let commandStatement = statement(name, "command") else {
        throw WrapError(
          .unsupported,
          "\(file): \(key).\(HumanKey.shown(name)) is written in a form warden does not edit (an inline table?); write it as a [\(key).NAME] table"
        )
      }
      var scanner = TOMLScanner(bytes: bytes, file: file)
      scanner.pos = commandStatement.value.lowerBound
      guard (try? scanner.string()) == commandText, scanner.pos == commandStatement.value.upperBound else {
        throw WrapError(
          .unsupported, "\(file): cannot find the command of \(key).\(HumanKey.shown(name)) in the text")
      }
      entry.command = StringValue(text: commandText, range: commandStatement.value)
      let line = commandStatement.line
      let endsLine = line.upperBound > line.lowerBound && bytes[line.upperBound - 1] == 0x0A
      let indent = String(decoding: bytes[commandStatement.indent], as: UTF8.self)
      let argsKey = (commandStatement.key.dropLast() + ["args"]).map(Self.tomlKey).joined(separator: ".")
      entry.insertion = line.upperBound
      entry.argsMember = { array in
        endsLine ? indent + argsKey + " = " + array + "\n" : "\n" + indent + argsKey + " = " + array
      }
      if let args = server["args"] {
        guard let array = args.array, array.allSatisfy({ $0.string != nil }) else {
          entry.problem = "its args is not a list of strings"
          continue
        }
        guard let argsStatement = statement(name, "args") else {
          throw WrapError(
            .unsupported,
            "\(file): \(key).\(HumanKey.shown(name)).args is written in a form warden does not edit")
        }
        let elements = try TOMLStatements.stringElements(bytes, range: argsStatement.value, file: file)
        guard elements.map(\.text) == array.map({ $0.string! }) else {
          throw WrapError(
            .unsupported, "\(file): cannot read the args of \(key).\(HumanKey.shown(name)) in the text")
        }
        entry.args = ArgsValue(
          range: argsStatement.value, elements: elements.map { StringValue(text: $0.text, range: $0.range) })
        let argsLine = argsStatement.indent.lowerBound..<argsStatement.line.upperBound
        entry.insertedMember = { _ in argsLine }
      }
    }
    return document
  }

  /// A TOML key part: bare when it can be, else quoted.
  static func tomlKey(_ key: String) -> String {
    !key.isEmpty && key.utf8.allSatisfy(TOMLScanner.isBare) ? key : tomlQuoted(key)
  }

  /// A TOMLKit value as plain data.
  static func plain(_ value: any TOMLValueConvertible) -> Plain {
    if let table = value.table {
      return .object(table.keys.sorted().map { Plain.Pair(($0, plain(table[$0]!))) })
    }
    if let array = value.array { return .array(array.map { plain($0) }) }
    if let string = value.string { return .string(string) }
    return .literal("\(value.type):\(value.debugDescription)")
  }
}
