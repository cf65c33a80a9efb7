import Crypto
import Testing

@testable import WardenProxy

@Suite("Confirmation tokens")
struct ConfirmationTokenTests {
  let key = SymmetricKey(size: .bits256)
  let token = ConfirmationToken(
    holdID: "h_abc", digest: "d1", paramsDigest: "p1", expiresAt: 1_795_000_000_000,
    serverState: "server's \"state\"",
    serverResponses: #"{"k":{"action":"accept"}}"#)

  @Test func roundTrip() throws {
    let text = token.encoded(key: key)
    #expect(text.hasPrefix("warden1."))
    let decoded = try #require(ConfirmationToken.decode(text, key: key))
    #expect(try decoded.get() == token)
  }

  @Test func anyChangeIsRefused() throws {
    let text = token.encoded(key: key)
    var characters = Array(text)
    for index in stride(from: 8, to: characters.count, by: 7) {
      let original = characters[index]
      characters[index] = original == "a" ? "b" : (original == "." ? "a" : "a")
      let result = ConfirmationToken.decode(String(characters), key: key)
      #expect(result != nil)
      if case .success = result { Issue.record("a changed token was accepted at \(index)") }
      characters[index] = original
    }
  }

  @Test func anotherKeyIsRefused() {
    let text = token.encoded(key: key)
    #expect(ConfirmationToken.decode(text, key: SymmetricKey(size: .bits256)) == .failure(.forged))
  }

  @Test func notAWardenToken() {
    #expect(ConfirmationToken.decode("server-state-123", key: key) == nil)
    #expect(ConfirmationToken.decode("warden1.zz", key: key) == .failure(.malformed))
  }
}
