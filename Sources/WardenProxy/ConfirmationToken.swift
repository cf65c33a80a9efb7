import Crypto
import WardenCore
import WardenJSON

/// The `requestState` warden hands out in the per-request era when it asks the human about a held
/// call through an `input_required` result: which hold, which exact call (its digest), until when,
/// and the server's own request state and input responses it carried, if any, so that they can be
/// handed back to the server. Signed with a key that lives only in this warden process: a client can
/// neither forge a token nor move it to another call; a token is used once.
struct ConfirmationToken: Equatable {
  static let prefix = ServerNamespace.tokenPrefix
  /// The key of warden's question in `inputRequests` / `inputResponses`.
  static let inputKey = "dev.warden/confirm"

  var holdID: String
  var digest: String
  /// The digest of the call's other params members (`CallMachine.Claim.paramsDigest`).
  var paramsDigest: String
  var expiresAt: Int64
  /// The server's own `requestState` the call carried when warden asked.
  var serverState: String?
  /// The server's own `inputResponses` the call carried when warden asked, as JSON text.
  var serverResponses: String?

  /// Signs this token with `key`.
  func encoded(key: SymmetricKey) -> String {
    var members: [(String, JSONValue)] = [
      ("h", .string(holdID)), ("d", .string(digest)), ("p", .string(paramsDigest)),
      ("x", .integer(expiresAt)),
    ]
    if let serverState { members.append(("s", .string(serverState))) }
    if let serverResponses { members.append(("r", .string(serverResponses))) }
    let payload = Hex.encode(JSONValue.object(members).serialized())
    let signed = Self.prefix + payload
    let mac = HMAC<SHA256>.authenticationCode(for: Array(signed.utf8), using: key)
    return signed + "." + Hex.encode(Array(mac))
  }

  /// Why a token cannot be used.
  enum Problem: Error, Equatable {
    case malformed
    case forged
  }

  /// Verifies and reads a token; nil when `text` is not a warden token at all.
  static func decode(_ text: String, key: SymmetricKey) -> Result<ConfirmationToken, Problem>? {
    guard text.hasPrefix(prefix) else { return nil }
    let parts = text.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 2, let payload = unhex(parts[0]), let mac = unhex(parts[1]) else {
      return .failure(.malformed)
    }
    let signed = prefix + parts[0]
    guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(signed.utf8), using: key) else {
      return .failure(.forged)
    }
    guard let value = try? JSONValue.parse(payload), let holdID = value["h"]?.stringValue,
      let digest = value["d"]?.stringValue, let paramsDigest = value["p"]?.stringValue,
      let expiresAt = value["x"]?.integerValue
    else { return .failure(.malformed) }
    return .success(
      ConfirmationToken(
        holdID: holdID, digest: digest, paramsDigest: paramsDigest, expiresAt: expiresAt,
        serverState: value["s"]?.stringValue,
        serverResponses: value["r"]?.stringValue))
  }

  static func unhex(_ text: Substring) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    func value(_ digit: UInt8) -> UInt8? {
      switch digit {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
      default: return nil
      }
    }
    var bytes = [UInt8]()
    bytes.reserveCapacity(utf8.count / 2)
    var index = 0
    while index < utf8.count {
      guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
      bytes.append(high << 4 | low)
      index += 2
    }
    return bytes
  }
}
