import Crypto
import WardenCore
import WardenJSON

/// What of a call's arguments may be stored, logged or shown: the exact bytes, except that the
/// values of the arguments a manifest lists under `redact:` are replaced by their length and a
/// digest. The digest an approval binds to is always over the real bytes.
enum ArgumentRedaction {
  /// `arguments` (the exact bytes of the `arguments` value) with each top-level member named in
  /// `redact` replaced by the string `[redacted: N bytes, sha256:XXXXXXXXXXXX]`.
  static func shown(_ arguments: [UInt8], redact: [String]) -> String {
    guard !redact.isEmpty, !arguments.isEmpty else { return String(decoding: arguments, as: UTF8.self) }
    let members: [ObjectMembers.Member]
    switch arguments.withUnsafeBytes({ ObjectMembers.split($0) }) {
    case .success(let found): members = found
    case .failure: return "[redacted: \(arguments.count) bytes, unreadable]"
    }
    var out: [UInt8] = []
    var copied = 0
    for member in members where redact.contains(where: { $0.hasSameBytes(as: member.key) }) {
      out += arguments[copied..<member.value.lowerBound]
      out += Array("\"\(marker(arguments[member.value]))\"".utf8)
      copied = member.value.upperBound
    }
    out += arguments[copied...]
    return String(decoding: out, as: UTF8.self)
  }

  /// The text that stands in for one redacted value.
  static func marker(_ value: ArraySlice<UInt8>) -> String {
    let digest = Hex.encode(SHA256.hash(data: Array(value)).prefix(6))
    return "[redacted: \(value.count) bytes, sha256:\(digest)]"
  }
}
