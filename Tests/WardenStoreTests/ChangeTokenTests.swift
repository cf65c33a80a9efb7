import Foundation
import Testing
import WardenCore
import WardenStore

@Suite struct ChangeTokenTests {
  @Test func staysPutWithoutWritesAndMovesOnOwnWrites() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      let first = try store.changeToken()
      #expect(try store.changeToken() == first)
      try store.insert(makeGrant("g_one"))
      let second = try store.changeToken()
      #expect(second > first)
      _ = try store.revoke(ids: ["g_one"], by: "bob", at: 5)
      #expect(try store.changeToken() > second)
    }
  }

  @Test func movesAfterAWriteFromAnotherInstance() throws {
    try withTemporaryHome { home in
      let watcher = try GrantStore.open(home: home)
      let writer = try GrantStore.open(home: home)
      let before = try watcher.changeToken()
      try writer.insert(makeGrant("g_one"))
      let afterInsert = try watcher.changeToken()
      #expect(afterInsert != before)
      _ = try writer.revokeAll(by: "bob", at: 5)
      #expect(try watcher.changeToken() != afterInsert)
    }
  }

  @Test func movesAfterAWriteFromAnotherProcess() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      let before = try store.changeToken()
      try sqlite3(
        store.databasePath,
        "INSERT INTO grants (id, effect, actions, resources, agent, server, confirm, purpose, issued_by,"
          + " issued_at, expires_at)"
          + " VALUES ('g_cli', 'allow', '[\"git.read\"]', '[]', '*', '*', '[]', 'p', 'cli', 1, 2)"
      )
      let afterInsert = try store.changeToken()
      #expect(afterInsert != before)
      #expect(try store.grant(id: "g_cli")?.issuedBy == "cli")
      try sqlite3(store.databasePath, "UPDATE generation SET value = value + 1")
      #expect(try store.changeToken() != afterInsert)
    }
  }

  @Test func ignoresRateLimitBookkeeping() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      let other = try GrantStore.open(home: home)
      try store.insert(makeGrant("g_one"))
      let token = try store.changeToken()
      try other.recordUse(grantID: "g_one", at: 5)
      #expect(try store.changeToken() == token)
    }
  }
}
