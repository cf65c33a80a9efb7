import Foundation
import Testing
import WardenCore
import WardenPostgres
import WardenStore

@Suite("Copying a SQLite store to PostgreSQL")
struct StoreCopyTests {
  @Test(.enabled(if: PostgresStoreTests.enabled)) func everythingArrivesAndTheTrailVerifiesThere() throws {
    try withStore(.postgres) { (target, fixture) throws in
      let sourceHome = fixture.home + "-sqlite"
      defer { try? FileManager.default.removeItem(atPath: sourceHome) }
      let source = try GrantStore.open(home: sourceHome)
      // A child issued before its parent's id sorts: parents still go first.
      try source.insert(makeGrant("g_z_parent", issuedAt: 5))
      try source.insert(makeGrant("g_a_child", issuedAt: 5, parentID: "g_z_parent"))
      try source.insert(makeGrant("f_never", effect: .forbid, expiresAt: nil))
      _ = try source.revoke(ids: ["g_z_parent"], by: "ann", at: 7)
      try source.createHold(makeHold("h_pending", deadline: 9_000))
      try source.createHold(unusualHold())
      try source.decide(
        holdID: unusualHold().id, state: .approved, by: "ann", channel: "terminal", at: 1_700_000_000_200)
      try source.tripBreaker(BreakerTrip(agent: "claude", at: 3, reason: "burst", then: .hold), session: "s")
      _ = try source.observeTools(
        server: "notes", command: "notes-server", definitions: [("a", "1"), ("b", "2")], pinNew: false, at: 1)
      _ = try source.observeTools(
        server: "notes", command: "notes-server", definitions: [("a", "9")], pinNew: false, at: 2)
      try source.appendAudit((1...6).map(AuditChainTests.record))
      let (rows, _) = try source.auditChainForVerification()
      let plan = try #require(AuditPrune.plan(rows, before: 3))
      _ = try source.pruneAudit(
        plan, record: AuditPrune.record(plan, before: 3, at: 7, by: "ann", attestation: "cli-terminal"))
      try source.appendAudit([AuditChainTests.record(8)])

      let report = try StoreCopy.copy(from: source, to: try #require(target as? PostgresStore))
      #expect(report.grants == 3 && report.holds == 2 && report.toolPins == 2 && report.breakerTrips == 1)
      #expect(report.auditRecords == 6 && report.anchors == 3)
      #expect(try target.allGrants() == source.allGrants())
      #expect(try target.recentHolds(limit: 10) == source.recentHolds(limit: 10))
      #expect(try target.toolPins(server: nil) == source.toolPins(server: nil))
      #expect(try target.breakerTrips() == source.breakerTrips())
      #expect(try target.auditRecords() == source.auditRecords())
      #expect(try target.auditDigestKey() == source.auditDigestKey())
      // The trail verifies on PostgreSQL, against the SQLite store's heads copied into this home's
      // anchor, and goes on from there.
      try target.appendAudit([AuditChainTests.record(9)])
      let (copied, anchors) = try target.auditChainForVerification()
      #expect(AuditChain.verify(copied, anchors: try anchors.get()) == .holds(records: 7, anchors: 4))
      // Never into a store that holds something.
      let again = storeError {
        _ = try StoreCopy.copy(from: source, to: try #require(target as? PostgresStore))
      }
      #expect(again?.code == .invalid && again?.description.contains("not empty") == true)
    }
  }

  @Test(.enabled(if: PostgresStoreTests.enabled)) func aTrailThatDoesNotVerifyIsNotCopied() throws {
    try withStore(.postgres) { (target, fixture) throws in
      let sourceHome = fixture.home + "-sqlite"
      defer { try? FileManager.default.removeItem(atPath: sourceHome) }
      let source = try GrantStore.open(home: sourceHome)
      try source.insert(makeGrant("g_one"))
      try source.appendAudit((1...3).map(AuditChainTests.record))
      _ = try sqlite3(source.databasePath, "DELETE FROM audit WHERE seq = 2")
      let error = storeError {
        _ = try StoreCopy.copy(from: source, to: try #require(target as? PostgresStore))
      }
      #expect(error?.code == .unreadable && error?.description.contains("does not verify") == true)
      #expect(try target.allGrants().isEmpty)
    }
  }
}
