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
}
