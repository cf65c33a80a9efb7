import Testing
import WardenCore
import WardenJSON
import WardenStore

/// The audit trail's chain: what `verify` catches, and that several writers (processes) append to one
/// chain.
@Suite("The audit chain")
struct AuditChainTests {
  static func record(_ n: Int) -> JSONValue {
    .object([
      ("kind", .string("decision")), ("at", .integer(Int64(n))), ("agent", .string("a")),
      ("server", .string("s")),
      ("call", .string("s-\(n)")), ("verdict", .string("allow")),
    ])
  }

  static func chain(_ count: Int) -> [AuditChain.Row] {
    var rows: [AuditChain.Row] = []
    var prev = AuditChain.genesis
    for n in 1...count {
      let (text, hash) = AuditChain.link(record(n), seq: Int64(n), prev: prev)
      rows.append(AuditChain.Row(seq: Int64(n), hash: hash, record: text))
      prev = hash
    }
    return rows
  }

  static func firstBad(_ rows: [AuditChain.Row], anchors: [AuditChain.Anchor] = []) -> Int64? {
    if case .broken(let seq, _) = AuditChain.verify(rows, anchors: anchors) { return seq }
    return nil
  }

  @Test func anIntactChainHolds() {
    let rows = Self.chain(5)
    #expect(
      AuditChain.verify(rows, anchors: [AuditChain.Anchor(seq: 5, hash: rows[4].hash)])
        == .holds(records: 5, anchors: 1))
  }

  @Test func anEditedRecordIsNamed() {
    var rows = Self.chain(5)
    rows[2].record = rows[2].record.replacing("allow", with: "deny")
    #expect(Self.firstBad(rows) == 3)
    // Rehashed too: the next record no longer follows it.
    rows[2].hash = AuditChain.hash(rows[2].record)
    #expect(Self.firstBad(rows) == 4)
  }

  @Test func deletedInsertedAndReorderedRecordsAreNamed() {
    var deleted = Self.chain(5)
    deleted.remove(at: 2)
    #expect(Self.firstBad(deleted) == 3)
    var reordered = Self.chain(5)
    reordered.swapAt(2, 3)
    #expect(Self.firstBad(reordered) == 3)
    var inserted = Self.chain(5)
    inserted.insert(inserted[1], at: 2)
    #expect(Self.firstBad(inserted) != nil)
  }

  @Test func cutNewestRecordsAreCaughtByTheHeadFile() {
    let rows = Self.chain(6)
    let anchors = rows.map { AuditChain.Anchor(seq: $0.seq, hash: $0.hash) }
    #expect(Self.firstBad(Array(rows.prefix(4)), anchors: anchors) == 5)
    // A chain rewritten from record 3 on disagrees with what the head file saw.
    var rewritten = Self.chain(6)
    rewritten.removeLast(4)
    var prev = rewritten[1].hash
    for n in 3...6 {
      var fields = Self.record(n)
      fields = fields.setting("verdict", to: .string("deny"))
      let (text, hash) = AuditChain.link(fields, seq: Int64(n), prev: prev)
      rewritten.append(AuditChain.Row(seq: Int64(n), hash: hash, record: text))
      prev = hash
    }
    #expect(Self.firstBad(rewritten) == nil)
    #expect(Self.firstBad(rewritten, anchors: anchors) == 3)
  }

  @Test(arguments: Backend.all) func twoStoresOnOneFileAppendToOneChain(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let first = store
      let second = try fixture.open()
      for n in 0..<10 {
        try (n % 2 == 0 ? first : second).appendAudit([Self.record(n), Self.record(n + 100)])
      }
      let (rows, anchors) = try first.auditChainForVerification()
      #expect(rows.count == 20)
      guard case .success(let heads) = anchors else {
        Issue.record("the head file is unreadable")
        return
      }
      #expect(heads.count == 10)
      #expect(AuditChain.verify(rows, anchors: heads) == .holds(records: 20, anchors: 10))
      #expect(try first.auditDigestKey().count == 32)
    }
  }
}

@Suite("Tampering with the stored chain")
struct AuditTamperingTests {
  @Test(arguments: Backend.all) func isRefusedOrCaughtOnEveryBackend(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.appendAudit((1...5).map(AuditChainTests.record))
      func verdict() throws -> AuditChain.Verdict {
        let (rows, anchors) = try store.auditChainForVerification()
        return AuditChain.verify(rows, anchors: try anchors.get())
      }
      #expect(try verdict() == .holds(records: 5, anchors: 1))
      // The store refuses an edit...
      let edit = try fixture.sql("UPDATE audit SET record = replace(record, 'c-2', 'c-x') WHERE seq = 2")
      #expect(edit.status != 0 && edit.error.contains("audit records are never changed"), "\(edit.error)")
      // ...and verify names a deletion in the middle, and the newest records cut off.
      try fixture.sqlSucceeding("DELETE FROM audit WHERE seq = 3")
      guard case .broken(let seq, _) = try verdict() else {
        Issue.record("a deleted record went unnoticed")
        return
      }
      #expect(seq == 3)
      try fixture.sqlSucceeding("DELETE FROM audit WHERE seq >= 3")
      guard case .broken(_, let problem) = try verdict() else {
        Issue.record("cut-off records went unnoticed")
        return
      }
      #expect(problem.contains("cut off"), "\(problem)")
    }
  }
}
