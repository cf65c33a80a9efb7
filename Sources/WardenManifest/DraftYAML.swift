/// YAML text for drafts made from a server's own words: tool names, descriptions and argument names
/// are chosen by the server, which may be hostile, so none of them reaches the draft unescaped.
///
/// Two dangers: a line break (YAML also breaks lines at U+0085, U+2028 and U+2029) would let a
/// description end its comment and write keys of its own, and a character YAML forbids in a stream
/// (most controls, U+FFFE, U+FFFF) would make the whole draft unreadable. Bidirectional controls are
/// escaped too: the human reviews the draft, and they could reorder what the human reads.
enum DraftYAML {
  /// A scalar YAML reads the same in a comment, a plain scalar or a double-quoted one.
  static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x20...0x7E: return true
    case 0x85, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF: return false
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return false
    case 0xA0...: return true
    default: return false
    }
  }

  /// Whether every scalar of `text` is safe (see `isSafe`).
  static func isSafe(_ text: String) -> Bool {
    text.unicodeScalars.allSatisfy(isSafe)
  }

  /// `text` for a comment: one line, unsafe scalars written as `\u{XXXX}`, at most `limit`
  /// characters (then `...`).
  static func commentText(_ text: String, limit: Int = 100) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
      if count >= limit {
        out += "..."
        break
      }
      if isSafe(scalar) {
        out.unicodeScalars.append(scalar)
      } else {
        out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      }
      count += 1
    }
    return out
  }

  /// A double-quoted scalar: `"` and `\` escaped, every unsafe scalar as a YAML escape.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case let safe where isSafe(safe): out.unicodeScalars.append(safe)
      default:
        let hex = String(scalar.value, radix: 16, uppercase: true)
        out +=
          scalar.value <= 0xFFFF
          ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
          : "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
      }
    }
    return out + "\""
  }

  /// A mapping key: plain when it is an identifier YAML cannot read as anything else, else quoted.
  static func key(_ text: String) -> String {
    let plain =
      text.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
      && text.unicodeScalars.allSatisfy { $0.isASCIIIdentifierOrDash }
      && !reservedWords.contains(text.lowercased())
    return plain ? text : quoted(text)
  }

  /// Words YAML 1.1 resolves to booleans or null when plain.
  private static let reservedWords: Set<String> = [
    "y", "n", "yes", "no", "true", "false", "on", "off", "null",
  ]
}

extension Unicode.Scalar {
  /// `A`-`Z`, `a`-`z`, `0`-`9`, `_`, `-`, `.`.
  fileprivate var isASCIIIdentifierOrDash: Bool {
    ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self) || self == "_"
      || self == "-" || self == "."
  }
}
