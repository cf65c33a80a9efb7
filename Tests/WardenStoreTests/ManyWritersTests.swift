import Foundation
import Testing
import WardenCore
import WardenPostgres
import WardenStore

@Suite("Many writers on one store")
struct ManyWritersTests {
  /// Each thread opens its own store, as another warden (another process, another machine) would.
  @Test(arguments: Backend.all) func concurrentAppendersMakeOneChain(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let writers = 4
      let batches = 15
      let failures = Failures()
      DispatchQueue.concurrentPerform(iterations: writers) { writer in
        do {
          let own = try fixture.open()
          for batch in 0..<batches {
            try own.appendAudit([
              AuditChainTests.record(writer * 1000 + batch * 2),
              AuditChainTests.record(writer * 1000 + batch * 2 + 1),
            ])
          }
        } catch {
          failures.add("\(error)")
        }
      }
      #expect(failures.all.isEmpty, "\(failures.all)")
      let (rows, anchors) = try store.auditChainForVerification()
      #expect(rows.count == writers * batches * 2)
      #expect(
        AuditChain.verify(rows, anchors: try anchors.get())
          == .holds(records: writers * batches * 2, anchors: writers * batches))
    }
  }

  @Test(arguments: Backend.all) func ofConcurrentDecisionsTheFirstWins(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      for index in 0..<10 { try store.createHold(makeHold("h_\(index)", deadline: 9_000)) }
      let taken = Failures()
      DispatchQueue.concurrentPerform(iterations: 4) { approver in
        do {
          let own = try fixture.open()
          for index in 0..<10 {
            let hold = try own.decide(
              holdID: "h_\(index)", state: approver % 2 == 0 ? .approved : .rejected,
              by: "approver\(approver)",
              channel: "terminal", at: 2_000 + Int64(approver))
            if hold.decidedBy == "approver\(approver)" { taken.add("h_\(index)") }
          }
        } catch {
          taken.add("error: \(error)")
        }
      }
      // Exactly one decision per hold was taken, and it is the one stored.
      #expect(taken.all.sorted() == (0..<10).map { "h_\($0)" }.sorted())
      #expect(try store.pendingHolds(now: 0).isEmpty)
    }
  }
}
