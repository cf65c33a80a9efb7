import Foundation
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
}
