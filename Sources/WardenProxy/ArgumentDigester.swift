import Crypto
import Synchronization
import WardenCore

/// The keyed digest of a call's arguments in its audit records: HMAC-SHA256, keyed with the store's
/// audit secret, of the hold digest's input (server, NUL, tool, NUL, the exact argument bytes).
///
/// Written out (RFC 2104) over `SHA256` instead of through `HMAC<SHA256>`: the key's two blocks and
/// the server's name, the same for every call of a session, are hashed once here, and each call
/// feeds the rest through `update(bufferPointer:)`. `HMAC.update` is generic over `DataProtocol`
/// and, unspecialized, cost more per call than the hashing itself (this runs on every call).
final class ArgumentDigester: Sendable {
  /// SHA-256 after `key ^ ipad` and `server NUL`, and after `key ^ opad`; each call hashes on from
  /// copies (`SHA256` is not `Sendable`, hence the lock).
  private let keyed: Mutex<(inner: SHA256, outer: SHA256)>

  init(key: [UInt8], server: String) {
    var block = key.count > SHA256.blockByteCount ? Array(SHA256.hash(data: key)) : key
    block += [UInt8](repeating: 0, count: SHA256.blockByteCount - block.count)
    var inner = SHA256()
    var outer = SHA256()
    block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
    block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
    Self.feed(server, to: &inner)
    keyed = Mutex((inner, outer))
  }

  /// The digest of a call of `tool` with these argument bytes, as lowercase hex.
  func digest(tool: String, arguments: [UInt8]) -> String {
    keyed.withLock { keyed in
      var hash = keyed.inner
      Self.feed(tool, to: &hash)
      arguments.withUnsafeBytes { hash.update(bufferPointer: $0) }
      var mac = keyed.outer
      hash.finalize().withUnsafeBytes { mac.update(bufferPointer: $0) }
      return mac.finalize().withUnsafeBytes { Hex.encode($0) }
    }
  }

  /// `text` and a NUL.
  private static func feed(_ text: String, to hash: inout SHA256) {
    var text = text
    text.withUTF8 { hash.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    withUnsafeBytes(of: UInt8(0)) { hash.update(bufferPointer: $0) }
  }
}
