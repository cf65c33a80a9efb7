import WardenJSON

/// JSON text for the string arrays of a grant (`actions`, `resources`, `confirm`). A tiny strict codec
/// instead of Foundation's, because loading 10,000 grants decodes 30,000 of them.
package enum StringArrayJSON {
  package static func encode(_ strings: [String]) -> String {
    "[" + strings.map(JSONText.quoted).joined(separator: ",") + "]"
  }

  /// The strings of a JSON array of strings; nil for anything else.
  package static func decode(_ text: String) -> [String]? {
    var text = text
    return text.withUTF8 { bytes in
      var parser = Parser(bytes: bytes)
      return parser.array()
    }
  }

  private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func array() -> [String]? {
      skipSpace()
      guard take(UInt8(ascii: "[")) else { return nil }
      var strings: [String] = []
      skipSpace()
      if take(UInt8(ascii: "]")) { return atEnd() ? strings : nil }
      while true {
        skipSpace()
        guard let string = string() else { return nil }
        strings.append(string)
        skipSpace()
        if take(UInt8(ascii: ",")) { continue }
        guard take(UInt8(ascii: "]")) else { return nil }
        return atEnd() ? strings : nil
      }
    }

    private mutating func string() -> String? {
      guard take(UInt8(ascii: "\"")) else { return nil }
      let start = index
      // The common case: no escapes, the bytes are the string.
      while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
        guard bytes[index] >= 0x20 else { return nil }
        index += 1
      }
      guard index < bytes.count else { return nil }
      var result = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""):
          return result
        case UInt8(ascii: "\\"):
          guard let scalar = escape() else { return nil }
          result.unicodeScalars.append(scalar)
        default:
          guard byte >= 0x20 else { return nil }
          let runStart = index - 1
          while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"),
            bytes[index] >= 0x20
          {
            index += 1
          }
          result += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<index]), as: UTF8.self)
        }
      }
      return nil
    }

    private mutating func escape() -> Unicode.Scalar? {
      guard index < bytes.count else { return nil }
      let byte = bytes[index]
      index += 1
      switch byte {
      case UInt8(ascii: "\""): return "\""
      case UInt8(ascii: "\\"): return "\\"
      case UInt8(ascii: "/"): return "/"
      case UInt8(ascii: "b"): return "\u{8}"
      case UInt8(ascii: "f"): return "\u{C}"
      case UInt8(ascii: "n"): return "\n"
      case UInt8(ascii: "r"): return "\r"
      case UInt8(ascii: "t"): return "\t"
      case UInt8(ascii: "u"):
        guard let high = hex4() else { return nil }
        if (0xD800..<0xDC00).contains(high) {
          guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(),
            (0xDC00..<0xE000).contains(low)
          else { return nil }
          return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        return Unicode.Scalar(high)
      default: return nil
      }
    }

    private mutating func hex4() -> UInt32? {
      guard index + 4 <= bytes.count else { return nil }
      var value: UInt32 = 0
      for _ in 0..<4 {
        let byte = bytes[index]
        index += 1
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
        default: return nil
        }
        value = value << 4 | UInt32(digit)
      }
      return value
    }

    private mutating func take(_ byte: UInt8) -> Bool {
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    private mutating func skipSpace() {
      while index < bytes.count {
        switch bytes[index] {
        case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
        default: return
        }
      }
    }

    private func atEnd() -> Bool {
      var probe = self
      probe.skipSpace()
      return probe.index == bytes.count
    }
  }
}
