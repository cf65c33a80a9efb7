import Testing
import WardenJSON

@testable import WardenCore

@Suite("Request ledger")
struct RequestLedgerTests {
  @Test func integerTableSurvivesChurn() {
    // Against a dictionary as the reference, with clustered keys that force long probe runs.
    var table = IntegerTable<Int>(capacity: 4)
    var reference: [Int64: Int] = [:]
    var state: UInt64 = 42
    for step in 0..<50_000 {
      state = state &* 6_364_136_223_846_793_005 &+ 1
      let key = Int64(state >> 58) * 16 - 300  // 64 distinct keys, 16 apart
      if state & 1 == 0 {
        let expected = reference[key] == nil
        let inserted = table.insert(step, for: key)
        #expect(inserted == expected)
        if expected { reference[key] = step }
      } else {
        let removed = table.remove(key)
        #expect(removed == reference.removeValue(forKey: key))
      }
      #expect(table.count == reference.count)
    }
    for (key, value) in reference { #expect(table[key] == value) }
  }

  @Test func mixesIdKindsAndKeepsOrder() {
    var ledger = RequestLedger()
    for (id, method) in [(RequestID.integer(5), "a"), (.string("5"), "b"), (.number("5.0"), "c")] {
      let opened = ledger.open(id, method: method)
      #expect(opened)
    }
    let reopened = ledger.open(.integer(5), method: "d")
    #expect(!reopened)
    #expect(ledger.inFlight.map(\.method) == ["a", "b", "c"])
    let closed = ledger.close(.string("5"))
    #expect(closed?.method == "b")
    #expect(ledger.contains(.integer(5)))
    #expect(!ledger.contains(.string("5")))
    let remaining = ledger.removeAll()
    #expect(remaining.map(\.method) == ["a", "c"])
    #expect(ledger.count == 0)
  }
}
