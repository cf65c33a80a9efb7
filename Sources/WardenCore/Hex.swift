/// Lowercase hexadecimal text of bytes: digests, keys and tokens.
public enum Hex {
  private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

  public static func encode(_ bytes: some Sequence<UInt8>) -> String {
    if let text = bytes.withContiguousStorageIfAvailable({ encode(UnsafeRawBufferPointer($0)) }) {
      return text
    }
    return Array(bytes).withUnsafeBytes { encode($0) }
  }

  /// The fast path: a digest's bytes (`digest.withUnsafeBytes(Hex.encode)`) are hashed per record.
  public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { out in
      digits.withUnsafeBufferPointer { digits in
        for (index, byte) in bytes.enumerated() {
          out[2 * index] = digits[Int(byte >> 4)]
          out[2 * index + 1] = digits[Int(byte & 0x0F)]
        }
      }
      return bytes.count * 2
    }
  }

  /// The bytes of lowercase hexadecimal `text`; nil for anything else (an odd length, another
  /// character, uppercase).
  public static func decode(_ text: String) -> [UInt8]? {
    guard text.utf8.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count / 2)
    var high: UInt8?
    for byte in text.utf8 {
      let value: UInt8
      switch byte {
      case 0x30...0x39: value = byte - 0x30
      case 0x61...0x66: value = byte - 0x61 + 10
      default: return nil
      }
      if let first = high {
        bytes.append(first << 4 | value)
        high = nil
      } else {
        high = value
      }
    }
    return bytes
  }
}
