/// Text a human reads in a terminal or a form, made safe to show: whatever an agent, a server or a
/// call's arguments put into a name, a tool, a resource, a purpose or a reason must not be able to
/// move the cursor, erase a line, recolor or hide text, reorder it (bidi overrides) or start a line
/// of its own. Each such character is shown as a visible escape instead (`\e`, `\r`, `\u{202E}`).
public enum HumanText {
  /// `text` with every control character, line break, bidi control and invisible formatting
  /// character replaced by a visible escape.
  public static func escaped(_ text: String) -> String {
    // Fast path: plain printable ASCII needs no work.
    if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x5C: out += "\\\\"
      case 0x0A: out += "\\n"
      case 0x0D: out += "\\r"
      case 0x09: out += "\\t"
      case 0x1B: out += "\\e"
      case let value where needsEscape(value):
        out += "\\u{" + String(value, radix: 16, uppercase: true) + "}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// C0 and C1 controls, DEL, line and paragraph separators, bidi embeddings, overrides and
  /// isolates, and zero-width or invisible formatting characters.
  static func needsEscape(_ value: UInt32) -> Bool {
    switch value {
    case 0x00...0x1F, 0x7F...0x9F: return true
    case 0x061C, 0x115F, 0x1160, 0x180E: return true
    case 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F: return true
    case 0x3164, 0xFEFF, 0xFFA0, 0xFFF9...0xFFFB: return true
    case 0xE0000...0xE007F: return true  // tag characters
    default: return false
    }
  }

  /// `text` escaped and, past `limit` characters, cut with a note of how long it is in all and where
  /// to read the rest.
  public static func shortened(_ text: String, limit: Int, rest: String) -> String {
    let shown = escaped(text)
    guard shown.count > limit else { return shown }
    return String(shown.prefix(limit)) + "… (\(text.utf8.count) bytes in all; \(rest))"
  }
}

/// Agent names taken from what a client says about itself (`clientInfo.name`): a name outside
/// `[A-Za-z0-9._@/:+-]{1,64}` is not used as an identity.
public enum ClientName {
  /// `name` when it is acceptable as an agent identity; otherwise nil and why.
  public static func validated(_ name: String) -> Result<String, Rejection> {
    let bytes = Array(name.utf8)
    guard !bytes.isEmpty else { return .failure(Rejection(reason: "it is empty")) }
    guard bytes.count <= 64 else {
      return .failure(Rejection(reason: "it is longer than 64 bytes"))
    }
    guard bytes.allSatisfy(isAllowed) else {
      return .failure(
        Rejection(reason: "it holds characters outside letters, digits and . _ @ / : + -"))
    }
    return .success(name)
  }

  public struct Rejection: Error, Sendable, Equatable {
    public var reason: String
  }

  static func isAllowed(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: ":"),
      UInt8(ascii: "+"), UInt8(ascii: "-"):
      return true
    default: return false
    }
  }
}
