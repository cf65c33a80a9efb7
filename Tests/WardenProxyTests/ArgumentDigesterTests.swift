import Crypto
import Testing
import WardenCore

@testable import WardenProxy

/// The audit records' argument digest is defined as HMAC-SHA256 over `server NUL tool NUL arguments`
/// (SPEC, "The audit trail"); `ArgumentDigester` writes HMAC out over SHA-256 for speed, so it must
/// give exactly what `HMAC<SHA256>` gives, for keys shorter than, as long as, and longer than a block.
@Suite("Argument digests")
struct ArgumentDigesterTests {
  static func reference(key: [UInt8], server: String, tool: String, arguments: [UInt8]) -> String {
    let input = Array(server.utf8) + [0] + Array(tool.utf8) + [0] + arguments
    let mac = HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key))
    return mac.withUnsafeBytes { Hex.encode($0) }
  }

  @Test(arguments: [0, 1, 32, 63, 64, 65, 200])
  func itIsHMACSHA256OfTheDefinedInput(keyLength: Int) {
    let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    let digester = ArgumentDigester(key: key, server: "git")
    for (tool, arguments) in [
      ("git_status", Array(#"{"repo_path":"/srv/app"}"#.utf8)), ("", []), ("é\u{0}x", [0, 1, 2]),
      ("big", [UInt8](repeating: 0x61, count: 100_000)),
    ] {
      #expect(
        digester.digest(tool: tool, arguments: arguments)
          == Self.reference(key: key, server: "git", tool: tool, arguments: arguments))
    }
  }

  @Test func theServerIsPartOfTheInput() {
    let key = [UInt8](repeating: 9, count: 32)
    let arguments = Array("{}".utf8)
    #expect(
      ArgumentDigester(key: key, server: "a").digest(tool: "t", arguments: arguments)
        != ArgumentDigester(key: key, server: "b").digest(tool: "t", arguments: arguments))
  }
}
