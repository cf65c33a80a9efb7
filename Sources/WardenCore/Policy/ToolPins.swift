import WardenJSON

/// Pinned tool definitions: what a server's tools were when a human last accepted them (or when
/// warden first saw them), so a tool that changes afterwards, or a tool that appears, is caught
/// before its calls run ("rug pull": the same name, a new description or schema, another meaning).
///
/// A pin belongs to a server instance and its exact command line: two servers run under one name
/// with different commands do not share pins.
public enum ToolPinning {
  /// The members of a `tools/list` entry that define a tool: what the model reads and what the
  /// server accepts. `_meta` and anything else are left out (servers put volatile data there).
  public static let definingMembers = [
    "name", "title", "description", "inputSchema", "outputSchema", "annotations",
  ]

  /// The tool's definition as canonical JSON text; nil for an entry that is no object with a name.
  public static func definition(of tool: JSONValue) -> String? {
    guard tool.kind == .object, tool["name"]?.stringValue != nil else { return nil }
    var members: [(String, JSONValue)] = []
    for key in definingMembers {
      if let value = tool[key] { members.append((key, value)) }
    }
    return JSONValue.object(members).canonicalText()
  }

  /// A server instance's pin key: its command line, as a canonical JSON array.
  public static func commandKey(_ command: [String]) -> String {
    JSON.array(command.map { .string($0) }).canonicalText
  }
}

/// One tool's pin, as the store keeps it.
public struct ToolPin: Sendable, Equatable {
  public enum State: String, Sendable, Equatable, CaseIterable {
    /// As accepted (or first seen).
    case pinned
    /// Seen with another definition since: its calls are denied until a human accepts it.
    case changed
    /// Seen after the tools were pinned: its calls are denied until a human accepts it.
    case added
  }

  public var server: String
  /// The command line (`ToolPinning.commandKey`).
  public var command: String
  public var tool: String
  /// The accepted definition; nil for a tool added after the pins were made.
  public var pinned: String?
  /// The definition seen that differs from the pinned one.
  public var observed: String?
  public var state: State
  public var since: Int64
  /// Who accepted the definition in force, when a human did.
  public var acceptedBy: String?

  public init(
    server: String, command: String, tool: String, pinned: String?, observed: String?, state: State,
    since: Int64, acceptedBy: String? = nil
  ) {
    self.server = server
    self.command = command
    self.tool = tool
    self.pinned = pinned
    self.observed = observed
    self.state = state
    self.since = since
    self.acceptedBy = acceptedBy
  }
}
