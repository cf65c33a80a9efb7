import Foundation
import Testing
import WardenJSON
import WardenStore

/// The session journal: what a killed session leaves is folded into the chain exactly once, a
/// running session's journal is never taken, and the chain holds afterwards.
@Suite("The audit journal")
struct AuditJournalTests {
  static func record(_ n: Int, session: String = "s1") -> AuditRecord {
    AuditRecord(json: AuditChainTests.record(n).setting("session", to: .string(session)))!
  }

  static func chainHolds(_ store: any DelegationStore) throws -> Bool {
    let (rows, anchors) = try store.auditChainForVerification()
    if case .holds = AuditChain.verify(rows, anchors: try anchors.get()) { return true }
    return false
  }

  static func calls(_ store: any DelegationStore) throws -> [String] {
    try store.auditRecords().compactMap { try JSONValue.parse($0.record)["call"]?.stringValue }
  }

  @Test(arguments: Backend.all) func aKilledSessionsRecordsPastWhatWasCommittedAreRecovered(
    _ backend: Backend
  ) throws {
    try withStore(backend) { (store, fixture) throws in
      do {
        let journal = try AuditJournal(home: fixture.home, session: "s1")
        let through = try journal.append([Self.record(1), Self.record(2)])
        try store.appendAudit([Self.record(1), Self.record(2)], journal: ("s1", through))
        try journal.append([Self.record(3)])
        try journal.append([Self.record(4)])
        // While it runs, its journal is not taken.
        #expect(store.recoverAuditJournals(now: 9).records == 0)
        // The journal goes out of scope without `remove`: the session "was killed".
      }
      let recovery = store.recoverAuditJournals(now: 9)
      #expect(recovery == .init(sessions: ["s1"], records: 2, problems: []))
      #expect(try Self.calls(store) == ["s-1", "s-2", "s-3", "s-4", ""])
      let note = try JSONValue.parse(try store.auditRecords().last!.record)
      #expect(note["kind"]?.stringValue == "session-ended" && note["recovered"]?.integerValue == 2)
      #expect(try Self.chainHolds(store))
      // Exactly once.
      #expect(store.recoverAuditJournals(now: 10).records == 0)
      #expect(try store.auditRecords().count == 5)
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: AuditJournal.directory(home: fixture.home))
          .isEmpty)
    }
  }

  @Test(arguments: Backend.all) func aJournalAllInTheChainLeavesNoRecordBehind(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      do {
        let journal = try AuditJournal(home: fixture.home, session: "s2")
        let through = try journal.append([Self.record(1)])
        try store.appendAudit([Self.record(1)], journal: ("s2", through))
      }
      #expect(store.recoverAuditJournals(now: 9) == .init(sessions: [], records: 0, problems: []))
      #expect(try store.auditRecords().count == 1)
    }
  }

  @Test(arguments: Backend.all) func aTornLastLineIsNotARecord(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      do {
        let journal = try AuditJournal(home: fixture.home, session: "s3")
        try journal.append([Self.record(1)])
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data("2\t{\"kind\":\"deci".utf8))
        try handle.close()
      }
      #expect(store.recoverAuditJournals(now: 9).records == 1)
      #expect(try Self.calls(store) == ["s-1", ""])
      #expect(try Self.chainHolds(store))
    }
  }

  @Test(arguments: Backend.all) func aFinishedJournalIsGone(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let journal = try AuditJournal(home: fixture.home, session: "s4")
      let through = try journal.append([Self.record(1)])
      try store.appendAudit([Self.record(1)], journal: ("s4", through))
      journal.remove()
      try store.finishAuditJournal(session: "s4")
      #expect(!FileManager.default.fileExists(atPath: journal.path))
      #expect(store.recoverAuditJournals(now: 9).records == 0)
    }
  }

  @Test(arguments: Backend.all) func aSessionNameCannotLeaveTheJournalDirectory(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      for name in ["", "../x", "a/b", ".hidden"] {
        #expect(throws: StoreError.self) { try AuditJournal(home: fixture.home, session: name) }
      }
    }
  }
}
