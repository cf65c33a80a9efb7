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
      let afterInsert = try watcher.changeToken()
      #expect(afterInsert != before)
      _ = try writer.revokeAll(by: "bob", at: 5)
      #expect(try watcher.changeToken() != afterInsert)
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
      let afterInsert = try store.changeToken()
      #expect(afterInsert != before)
      #expect(try store.grant(id: "g_cli")?.issuedBy == "cli")
      try fixture.sqlSucceeding("UPDATE generation SET value = value + 1")
      #expect(try store.changeToken() != afterInsert)
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
