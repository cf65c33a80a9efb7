import Glibc
import Testing

@testable import WardenProxy

/// Feeds `chunks` through a real pipe, one write per chunk, and collects what the framer reports.
func frame(_ chunks: [[UInt8]], maxLine: Int, initialCapacity: Int = 256 * 1024) throws -> [String] {
  let pipe = try Pipe()
  let framer = LineFramer(maxLine: maxLine, initialCapacity: initialCapacity)
  var events: [String] = []
  func record(_ event: LineFramer.Event) {
    switch event {
    case .line(let content, let raw):
      let terminated = raw.count == content.count + 1 ? "" : " (unterminated)"
      events.append(String(decoding: content, as: UTF8.self) + terminated)
    case .oversized(let prefix, let length):
      events.append("oversized \(length) starting \(String(decoding: prefix.prefix(8), as: UTF8.self))")
    }
  }
  for chunk in chunks {
    _ = chunk.withUnsafeBytes { write(pipe.writeEnd, $0.baseAddress, $0.count) }
    #expect(framer.read(from: pipe.readEnd) == .data)
    framer.drain(record)
  }
  close(pipe.writeEnd)
  #expect(framer.read(from: pipe.readEnd) == .endOfFile)
  framer.finish(record)
  close(pipe.readEnd)
  return events
}

@Suite("Line framing")
struct LineFramerTests {
  @Test func linesSplitAcrossReads() throws {
    let events = try frame([Array("ab".utf8), Array("c\nde".utf8), Array("f\n\ng".utf8)], maxLine: 100)
    #expect(events == ["abc", "def", "", "g (unterminated)"])
  }

  @Test func anOversizedLineIsDiscardedAndTheStreamGoesOn() throws {
    let long = [UInt8](repeating: UInt8(ascii: "x"), count: 300)
    let events = try frame(
      [Array("before\n".utf8), Array(long.prefix(150)), Array(long.suffix(150)), Array("\nafter\n".utf8)],
      maxLine: 64, initialCapacity: 128)
    #expect(events == ["before", "oversized 300 starting xxxxxxxx", "after"])
  }

  @Test func anOversizedLineInOneReadIsReported() throws {
    let events = try frame(
      [Array(("{\"id\":1," + String(repeating: "y", count: 100) + "\nok\n").utf8)], maxLine: 50)
    #expect(events == ["oversized 108 starting {\"id\":1,", "ok"])
  }

  @Test func aLineOfExactlyTheLimitPasses() throws {
    let line = String(repeating: "z", count: 64)
    #expect(try frame([Array((line + "\n").utf8)], maxLine: 64) == [line])
  }

  @Test func bigLinesGrowTheBuffer() throws {
    let big = String(repeating: "b", count: 3_000_000)
    let chunks = stride(from: 0, to: big.utf8.count, by: 60_000).map { start in
      Array(big.utf8.dropFirst(start).prefix(60_000))
    }
    let events = try frame(chunks + [Array("\nsmall\n".utf8)], maxLine: 4_000_000, initialCapacity: 64 * 1024)
    #expect(events.count == 2)
    #expect(events[0].utf8.count == 3_000_000)
    #expect(events[1] == "small")
  }
}
