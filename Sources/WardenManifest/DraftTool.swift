import WardenJSON

/// One tool of a server's `tools/list`, as `warden manifest init` reads it: only what a draft is
/// guessed from. Everything here comes from the server and is untrusted text.
public struct DraftTool: Sendable, Equatable {
  public var name: String
  /// The first non-empty line of the description, trimmed.
  public var summary: String?
  /// `annotations.readOnlyHint`, when it is a boolean.
  public var readOnlyHint: Bool?
  /// `annotations.destructiveHint`, when it is a boolean.
  public var destructiveHint: Bool?
  /// The properties of `inputSchema`, in the server's order.
  public var arguments: [DraftArgument]

  /// Reads a tool object; nil when it has no string `name`.
  public init?(json: JSON) {
    guard case .string(let name)? = json["name"] else { return nil }
    self.name = name
    summary = json["description"]?.stringValue.flatMap(Self.firstLine)
    readOnlyHint = Self.bool(json["annotations"]?["readOnlyHint"])
    destructiveHint = Self.bool(json["annotations"]?["destructiveHint"])
    let schema = json["inputSchema"]
    var required: Set<String> = []
    if case .array(let names)? = schema?["required"] {
      for case .string(let name) in names { required.insert(name) }
    }
    var arguments: [DraftArgument] = []
    if case .object(let properties)? = schema?["properties"] {
      for property in properties {
        arguments.append(
          DraftArgument(name: property.key, schema: property.value, required: required.contains(property.key))
        )
      }
    }
    self.arguments = arguments
  }

  /// Whether calls of the tool change anything, by MCP's rules: a read-only tool does not; any
  /// other is destructive unless `destructiveHint` is false (its default is true).
  public var isDestructive: Bool {
    readOnlyHint == true ? false : (destructiveHint ?? true)
  }

  private static func bool(_ value: JSON?) -> Bool? {
    if case .bool(let flag)? = value { return flag }
    return nil
  }

  private static func firstLine(_ text: String) -> String? {
    for line in text.split(whereSeparator: { $0.isNewline }) {
      let trimmed = line.trimmingCharacters(in: " \t")
      if !trimmed.isEmpty { return trimmed }
    }
    return nil
  }
}

/// One argument of a tool's input schema.
public struct DraftArgument: Sendable, Equatable {
  public var name: String
  public var required: Bool
  /// `type` (the first non-null one of a list), `nil` when the schema gives none.
  public var type: String?
  /// For an array, the `type` of its `items`.
  public var itemType: String?
  /// `format`, of the value or, for an array, of its items.
  public var format: String?
  /// The description, lowercased, for hints (`"absolute path to ..."`).
  public var hint: String

  public init(name: String, schema: JSON, required: Bool) {
    self.name = name
    self.required = required
    type = Self.type(of: schema)
    itemType = schema["items"].flatMap(Self.type)
    format = schema["format"]?.stringValue ?? schema["items"]?["format"]?.stringValue
    let texts = [schema["description"], schema["title"]].compactMap { $0?.stringValue }
    hint = texts.joined(separator: " ").lowercased()
  }

  /// Whether the argument holds text (or may: an untyped schema), or an array of it.
  var holdsText: Bool { type == nil || type == "string" }
  var holdsTextElements: Bool { type == "array" && (itemType == nil || itemType == "string") }

  private static func type(of schema: JSON) -> String? {
    switch schema["type"] {
    case .string(let name)?: return name
    case .array(let names)?:
      return names.compactMap(\.stringValue).first { $0 != "null" }
    default:
      // `anyOf: [{type: string}, {type: null}]`, as pydantic writes an optional argument.
      if case .array(let options)? = schema["anyOf"] {
        return options.compactMap { $0["type"]?.stringValue }.first { $0 != "null" }
      }
      return nil
    }
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: String) -> String {
    String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
  }
}
