/// A JSON value as plain Swift data: what the pure core reads tool arguments from.
///
/// Numbers keep their literal text, so that a resource computed from a number argument shows exactly
/// what the client sent. Object members keep their order.
public enum JSON: Sendable, Equatable, Hashable {
  case null
  case bool(Bool)
  case number(String)
  case string(String)
  case array([JSON])
  case object([Member])

  public struct Member: Sendable, Equatable, Hashable {
    public var key: String
    public var value: JSON

    public init(_ key: String, _ value: JSON) {
      self.key = key
      self.value = value
    }
  }

  /// The member named `key` of an object (keys compared as bytes, as the server will).
  public subscript(key: String) -> JSON? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.key.hasSameBytes(as: key) }?.value
  }

  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// A short name of the value's type, for messages.
  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "boolean"
    case .number: return "number"
    case .string: return "string"
    case .array: return "array"
    case .object: return "object"
    }
  }
}

extension JSONValue {
  /// This value as plain Swift data.
  public var json: JSON {
    switch kind {
    case .null: return .null
    case .bool: return .bool(boolValue ?? false)
    case .integer, .real: return .number(text())
    case .string: return .string(stringValue ?? "")
    case .array: return .array((0..<count).compactMap { self[$0]?.json })
    case .object: return .object(keys.compactMap { key in self[key].map { JSON.Member(key, $0.json) } })
    }
  }
}
