import Yams

/// One `key: value` pair of a mapping, with the key's node for positions.
struct Entry {
  var key: String
  var keyNode: Node
  var value: Node
}

extension ManifestReader {
  /// The pairs of `mapping`. Reports keys that are not scalars, keys given twice and, when `known` is
  /// given, keys not in it; those pairs are left out. `place` ends the messages ("in tool 'x'").
  mutating func entries(of mapping: Node.Mapping, known: [String]?, place: String) -> [Entry] {
    var result: [Entry] = []
    var seen: Set<String> = []
    let suffix = place.isEmpty ? "" : " \(place)"
    for (keyNode, value) in mapping {
      guard case .scalar(let scalar) = keyNode else {
        report("a key must be a name, not \(Self.describe(keyNode))", at: keyNode)
        continue
      }
      let key = scalar.string
      guard seen.insert(key).inserted else {
        report("duplicate key '\(key)'\(suffix)", at: keyNode)
        continue
      }
      if let known, !known.contains(key) {
        var message = "unknown key '\(key)'\(suffix)"
        if let guess = Suggestion.closest(to: key, among: known) {
          message += " (did you mean '\(guess)'?)"
        } else {
          message += " (known keys: \(known.joined(separator: ", ")))"
        }
        report(message, at: keyNode)
        continue
      }
      result.append(Entry(key: key, keyNode: keyNode, value: value))
    }
    return result
  }

  /// The value as a string; a number, boolean or null where text is expected is an error.
  mutating func string(_ entry: Entry) -> String? {
    guard let text = Self.text(of: entry.value) else {
      report("'\(entry.key)' must be a string, not \(Self.describe(entry.value))", at: position(of: entry))
      return nil
    }
    return text
  }

  /// The value as `true` or `false`.
  mutating func bool(_ entry: Entry) -> Bool? {
    guard case .scalar = entry.value, Self.tagName(of: entry.value) == .bool, let value = entry.value.bool
    else {
      report(
        "'\(entry.key)' must be true or false, not \(Self.describe(entry.value))", at: position(of: entry))
      return nil
    }
    return value
  }

  /// The value as a list of strings; a single string stands for a list of one.
  mutating func strings(_ entry: Entry) -> [(text: String, node: Node)]? {
    if let text = Self.text(of: entry.value) { return [(text, entry.value)] }
    guard case .sequence(let sequence) = entry.value else {
      report(
        "'\(entry.key)' must be a string or a list of strings, not \(Self.describe(entry.value))",
        at: position(of: entry))
      return nil
    }
    var result: [(text: String, node: Node)] = []
    for element in sequence {
      guard let text = Self.text(of: element) else {
        report("each entry of '\(entry.key)' must be a string, not \(Self.describe(element))", at: element)
        continue
      }
      result.append((text, element))
    }
    return result
  }

  /// Where to report a wrong value: the value itself, or its key when the value is empty (`key:` and
  /// nothing after it), whose position is wherever the parser noticed it was missing.
  func position(of entry: Entry) -> Mark? {
    if case .scalar(let scalar) = entry.value, scalar.string.isEmpty, scalar.style == .plain {
      return entry.keyNode.mark
    }
    return entry.value.mark
  }

  /// The text of a string scalar (plain, quoted or block), or nil for anything else.
  static func text(of node: Node) -> String? {
    guard case .scalar(let scalar) = node else { return nil }
    let tag = tagName(of: node)
    return tag == .str || tag == .nonSpecific ? scalar.string : nil
  }

  /// The node's tag after resolution: `str` for `"yes"`, `bool` for `yes`.
  static func tagName(of node: Node) -> Tag.Name {
    Tag.Name(rawValue: node.tag.rawValue)
  }

  /// "a string", "a number", "a list", ... for messages.
  static func describe(_ node: Node) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    case .scalar(let scalar):
      switch tagName(of: node) {
      case .str, .nonSpecific: return "a string"
      case .int, .float: return "a number ('\(scalar.string)')"
      case .bool: return "a boolean ('\(scalar.string)')"
      case .null: return "null"
      case .timestamp: return "a timestamp ('\(scalar.string)')"
      default: return "a value tagged '\(node.tag.rawValue)'"
      }
    }
  }
}
