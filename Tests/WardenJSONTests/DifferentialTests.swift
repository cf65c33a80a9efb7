import Testing
import WardenJSON

/// The scanner must agree with jansson on what is JSON, or one of them could be fooled into reading
/// a message differently from the other. Random mutations of real messages are checked against both.
@Suite("Message scanner agrees with jansson")
struct DifferentialTests {
  static let seeds = [
    #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"git_status","arguments":{"repo_path":"/tmp/r"}}}"#,
    #"{"jsonrpc":"2.0","id":"x","result":{"content":[{"type":"text","text":"ok é"}],"isError":false,"n":-1.5e3}}"#,
    #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":0.5,"total":null,"ok":true}}"#,
  ]

  /// A small deterministic generator, so a failure can be reproduced.
  struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  @Test func randomMutationsAgree() throws {
    var random = SplitMix(state: 20_261_124)
    let alphabet = Array(#"{}[]:,"\ -.0123456789eEtruefalsn aé"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
    var disagreements: [String] = []
    for iteration in 0..<20_000 {
      var bytes = Array(Self.seeds[iteration % Self.seeds.count].utf8)
      for _ in 0...Int.random(in: 0..<4, using: &random) {
        let position = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0: bytes[position] = alphabet.randomElement(using: &random)!
        case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
        default: bytes.remove(at: position)
        }
        if bytes.isEmpty { bytes = [0x7B] }
      }
      // jansson refuses integers beyond 64 bits and escapes of lone surrogates that JSON allows, and
      // it takes a raw NUL byte after a value for the end of input (see `rawNULIsRejected`).
      let text = String(decoding: bytes, as: UTF8.self)
      if text.contains("\\u") || bytes.contains(0x0A) || bytes.contains(0x00) { continue }
      var digits = 0
      var longNumber = false
      for byte in bytes {
        digits = (byte >= 0x30 && byte <= 0x39) ? digits + 1 : 0
        if digits > 15 { longNumber = true }
      }
      if longNumber { continue }
      let scannerSaysJSON = defect(scan(bytes: bytes))?.kind != .notJSON && scan(bytes: bytes) != .blank
      let janssonSaysJSON = bytes.withUnsafeBytes { raw in
        (try? JSONValue.parse(raw, rejectingDuplicates: false)) != nil
      }
      if scannerSaysJSON != janssonSaysJSON {
        disagreements.append("\(scannerSaysJSON ? "scanner" : "jansson") accepts: \(text.debugDescription)")
      }
    }
    #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
  }

  /// jansson accepts `{"a":false\0}`; the scanner, which sees every line first, does not.
  @Test func rawNULIsRejected() {
    let line =
      Array(#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":false"#.utf8) + [0x00] + Array("}}".utf8)
    #expect(defect(scan(bytes: line))?.kind == .notJSON)
  }
}
