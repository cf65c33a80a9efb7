import Foundation
import Testing
import WardenCore
import WardenStore

@Suite struct ChangeTokenTests {
  @Test(arguments: Backend.all) func staysPutWithoutWritesAndMovesOnOwnWrites(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let first = try store.changeToken()
      #expect(try store.changeToken() == first)
      try store.insert(makeGrant("g_one"))
      let second = try store.changeToken()
      #expect(second > first)
      _ = try store.revoke(ids: ["g_one"], by: "bob", at: 5)
      #expect(try store.changeToken() > second)
    }
  }

  @Test(arguments: Backend.all) func movesAfterAWriteFromAnotherInstance(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let watcher = store
      let writer = try fixture.open()
      let before = try watcher.changeToken()
      try writer.insert(makeGrant("g_one"))
      let afterInsert = try tokenMoves(watcher, from: before, backend)
      _ = try writer.revokeAll(by: "bob", at: 5)
      _ = try tokenMoves(watcher, from: afterInsert, backend)
    }
  }

  @Test(arguments: Backend.all) func movesAfterAWriteFromAnotherProcess(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let before = try store.changeToken()
      try fixture.sqlSucceeding(
        "INSERT INTO grants (id, effect, actions, resources, agent, server, confirm, purpose, issued_by,"
          + " issued_at, expires_at)"
          + " VALUES ('g_cli', 'allow', '[\"git.read\"]', '[]', '*', '*', '[]', 'p', 'cli', 1, 2)"
      )
      let afterInsert = try tokenMoves(store, from: before, backend)
      #expect(try store.grant(id: "g_cli")?.issuedBy == "cli")
      try fixture.sqlSucceeding("UPDATE generation SET value = value + 1")
      _ = try tokenMoves(store, from: afterInsert, backend)
    }
  }

  @Test(arguments: Backend.all) func ignoresRateLimitBookkeeping(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let other = try fixture.open()
      try store.insert(makeGrant("g_one"))
      let token = try store.changeToken()
      try other.recordUse(grantID: "g_one", at: 5)
      #expect(try store.changeToken() == token)
    }
  }
}

/// The token `store` reads once it moved from `before`: at once on SQLite ("the very next call");
/// on PostgreSQL within the bound SPEC states for another process's change (1 s), polled.
func tokenMoves(
  _ store: any DelegationStore, from before: Int64, _ backend: Backend,
  sourceLocation: SourceLocation = #_sourceLocation
) throws -> Int64 {
  let deadline = Date().addingTimeInterval(backend == .sqlite ? 0 : 1)
  while true {
    let token = try store.changeToken()
    if token != before { return token }
    if Date() >= deadline {
      Issue.record("the change token did not move", sourceLocation: sourceLocation)
      return token
    }
    usleep(5_000)
  }
}
