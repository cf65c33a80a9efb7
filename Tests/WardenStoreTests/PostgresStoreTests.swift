import Foundation
import Testing
import WardenCore
import WardenPostgres
import WardenStore

@Suite("The PostgreSQL store")
struct PostgresStoreTests {
  static var enabled: Bool { Backend.all.contains(.postgres) }

  @Test(.enabled(if: enabled)) func aSchemaTooOldOrTooNewIsRefusedWithWhatToDo() throws {
    try withStore(.postgres) { (_, fixture) throws in
      try fixture.sqlSucceeding("INSERT INTO warden_migrations (version, name) VALUES (99, 'future')")
      let newer = storeError { _ = try fixture.open() }
      #expect(newer?.code == .unreadable && newer?.description.contains("upgrade warden") == true)
      try fixture.sqlSucceeding("DELETE FROM warden_migrations")
      let older = storeError { _ = try fixture.open() }
      #expect(older?.code == .unreadable && older?.description.contains("warden store migrate") == true)
      try fixture.sqlSucceeding("INSERT INTO warden_migrations (version, name) VALUES (1, 'store')")
      #expect(try PostgresStore.migrate(url: fixture.url!, password: fixture.password) == [])
      _ = try fixture.open()
    }
  }

  @Test(.enabled(if: enabled)) func anEmptySchemaIsNotMigratedByOpening() throws {
    try withStore(.postgres) { (_, fixture) throws in
      var other = fixture.url!
      other.schema = fixture.url!.schema! + "_empty"
      _ = try psql(fixture.url!, password: fixture.password, "CREATE SCHEMA \(other.schema!)")
      defer {
        _ = try? psql(fixture.url!, password: fixture.password, "DROP SCHEMA \(other.schema!) CASCADE")
      }
      let error = storeError {
        _ = try PostgresStore.open(url: other, password: fixture.password, home: fixture.home)
      }
      #expect(error?.code == .unreadable && error?.description.contains("warden store migrate") == true)
      let tables = try psql(
        fixture.url!, password: fixture.password,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = '\(other.schema!)'")
      #expect(tables.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }
  }

  @Test(.enabled(if: enabled)) func aWrongPasswordOrAnUnreachableServerFailsClosedWithoutThePassword() throws
  {
    try withStore(.postgres) { (_, fixture) throws in
      let wrong = storeError {
        _ = try PostgresStore.open(url: fixture.url!, password: "hunter2-wrong", home: fixture.home)
      }
      #expect(wrong?.code == .cannotOpen, "\(String(describing: wrong))")
      #expect(wrong?.description.contains("hunter2") == false)
      var closed = fixture.url!
      closed.port = 1
      let unreachable = storeError {
        _ = try PostgresStore.open(url: closed, password: "hunter2-wrong", home: fixture.home)
      }
      #expect(unreachable?.code == .io, "\(String(describing: unreachable))")
      #expect(unreachable?.description.contains("hunter2") == false)
    }
  }
}
