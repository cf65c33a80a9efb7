import Foundation
import Testing
import WardenStore

/// `StoreInspection` is what `warden doctor` reads the store with: it must tell the schema's state
/// and leave the home exactly as it was (no -wal or -shm file, no migration).
@Suite struct StoreInspectionTests {
  /// The names in `home` with their sizes and modification times.
  func listing(_ home: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: home).sorted().map { name in
      let attributes = try FileManager.default.attributesOfItem(atPath: home + "/" + name)
      return "\(name) \(attributes[.size] ?? 0) \(attributes[.modificationDate] ?? "")"
    }
  }

  @Test func aStoreJustOpenedIsCurrentAndNothingIsCreated() throws {
    try withTemporaryHome { home in
      let path = try GrantStore.open(home: home).databasePath
      let before = try listing(home)
      guard case .current(let count) = StoreInspection.inspect(databasePath: path) else {
        Issue.record("not current: \(StoreInspection.inspect(databasePath: path))")
        return
      }
      #expect(count > 0)
      #expect(try listing(home) == before)
    }
  }

  @Test func aNewerStoreNamesTheUnknownMigration() throws {
    try withTemporaryHome { home in
      let path = try GrantStore.open(home: home).databasePath
      try sqlite3(path, "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
      #expect(StoreInspection.inspect(databasePath: path) == .newer(unknown: ["v99-from-the-future"]))
    }
  }

  @Test func anOlderStoreNamesTheMissingMigration() throws {
    try withTemporaryHome { home in
      let path = try GrantStore.open(home: home).databasePath
      try sqlite3(path, "DELETE FROM grdb_migrations WHERE identifier = 'v8-tool-pins'")
      #expect(StoreInspection.inspect(databasePath: path) == .outdated(missing: ["v8-tool-pins"]))
    }
  }

  @Test func garbageAndAnotherProgramsDatabaseAreUnreadable() throws {
    try withTemporaryHome { home in
      try FileManager.default.createDirectory(
        atPath: home, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
      let garbage = home + "/garbage.db"
      try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
      guard case .unreadable = StoreInspection.inspect(databasePath: garbage) else {
        Issue.record("garbage read as a store")
        return
      }
      let other = home + "/notes.db"
      try sqlite3(other, "CREATE TABLE notes (text TEXT)")
      guard case .unreadable(let reason) = StoreInspection.inspect(databasePath: other) else {
        Issue.record("another program's database read as a store")
        return
      }
      #expect(reason.contains("notes"))
    }
  }
}
