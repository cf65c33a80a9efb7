import Foundation
import Synchronization
import Testing
import WardenCore
import WardenPostgres
import WardenStore

@Suite("The PostgreSQL change token")
struct PostgresChangeTokenTests {
  @Test(.enabled(if: PostgresStoreTests.enabled))
  func isServedFromNotificationsAndSeesAnotherMachinesRevocationWithinTheBound()
    throws
  {
    try withStore(.postgres) { (store, fixture) throws in
      let watcher = try #require(store as? PostgresStore)
      let other = try fixture.open()
      try other.insert(makeGrant("g_one"))
      _ = try watcher.changeToken()
      #expect(!watcher.listensForChanges, "a single read needs no listener")
      _ = try watcher.changeToken()
      #expect(watcher.listensForChanges)
      for round in 0..<5 {
        let before = try watcher.changeToken()
        _ = try other.revoke(ids: ["g_one"], by: "bob", at: Int64(round))
        try other.insert(makeGrant("g_\(round)"))
        // Committed: from here on, what is measured is the change reaching the watcher.
        let start = Date()
        _ = try tokenMoves(watcher, from: before, .postgres)
        // Far inside the 1 s bound: the notification, not the safety-net poll, brought it.
        #expect(Date().timeIntervalSince(start) < 0.5)
      }
    }
  }

  @Test(.enabled(if: PostgresStoreTests.enabled)) func withoutItsListenerEveryCallReadsTheDatabase() throws {
    try withStore(.postgres) { (store, fixture) throws in
      let watcher = try #require(store as? PostgresStore)
      let other = try fixture.open()
      _ = try watcher.changeToken()
      _ = try watcher.changeToken()
      #expect(watcher.listensForChanges)
      watcher.dropChangeListener()
      let deadline = Date().addingTimeInterval(2)
      while watcher.listensForChanges, Date() < deadline { usleep(5_000) }
      #expect(!watcher.listensForChanges)
      let before = try watcher.changeToken()
      try other.insert(makeGrant("g_one"))
      // No notification can come: the very next read sees it.
      #expect(try watcher.changeToken() != before)
    }
  }

  /// A hold created or decided by another process wakes a warden's hold keeper through the same
  /// listener (`warden_holds`), so a decision from another machine is seen without waiting for a poll.
  @Test(.enabled(if: PostgresStoreTests.enabled)) func aHoldCreatedOrDecidedElsewhereWakesTheWatcher() throws
  {
    try withStore(.postgres) { (store, fixture) throws in
      let watcher = try #require(store as? PostgresStore)
      let other = try fixture.open()
      let woken = Mutex(0)
      watcher.onHoldsChanged { woken.withLock { $0 += 1 } }
      _ = try watcher.changeToken()
      _ = try watcher.changeToken()
      #expect(watcher.listensForChanges)
      func waitForWake(beyond count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(2)
        while woken.withLock({ $0 }) <= count, Date() < deadline { usleep(2_000) }
        return woken.withLock { $0 } > count
      }
      try other.createHold(makeHold("h_elsewhere", createdAt: 1_000, deadline: 9_999_999_999_999))
      #expect(waitForWake(beyond: 0), "a new hold did not wake the watcher")
      let seen = woken.withLock { $0 }
      try other.decide(holdID: "h_elsewhere", state: .approved, by: "ann", channel: "terminal", at: 2_000)
      #expect(waitForWake(beyond: seen), "a decision did not wake the watcher")
    }
  }
}
