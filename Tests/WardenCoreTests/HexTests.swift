import Testing
import WardenCore

@Suite("Hexadecimal text")
struct HexTests {
  @Test func decodingUndoesEncoding() {
    let bytes: [UInt8] = [0x00, 0x0f, 0xa5, 0xff, 0x10]
    #expect(Hex.encode(bytes) == "000fa5ff10")
    #expect(Hex.decode(Hex.encode(bytes)) == bytes)
    #expect(Hex.decode("") == [])
  }

  @Test func anythingButLowercaseHexIsRefused() {
    for text in ["0", "abc", "0G", "AB", "0x", "é0", " 00"] { #expect(Hex.decode(text) == nil, "\(text)") }
  }
}
