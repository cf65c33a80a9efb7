import Foundation
import Testing
import WardenStore

/// `mkdir -p $WARDEN_HOME/manifests` before warden's first run leaves the home 0755: warden sets it to
/// 0700 when it holds only warden's files, and refuses any other home with the `chmod` to run.
@Suite struct HomeRepairTests {
  static func makeDirectory(_ path: String, mode: Int) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
  }

  static func write(_ path: String, mode: Int = 0o644) throws {
    #expect(FileManager.default.createFile(atPath: path, contents: Data("x: 1\n".utf8)))
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
  }

  @Test func fixesAHomeThatMkdirLeftOpenToReading() throws {
    try withTemporaryHome { home in
      try Self.makeDirectory(home + "/manifests", mode: 0o755)
      try Self.makeDirectory(home, mode: 0o755)
      try Self.write(home + "/manifests/sqlite.yaml")
      try Self.write(home + "/config.yaml")
      let note = try GrantStore.repairHomePermissions(home + "/")
      #expect(note?.contains("set warden's home \(home) to mode 0700 (it was 0755") == true)
      #expect(try mode(home) == 0o700)
      #expect(try GrantStore.repairHomePermissions(home) == nil)
      _ = try GrantStore.open(home: home)
    }
  }

  @Test func fixesAHomeHoldingTheStoreAndTheAuditFiles() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      try store.insert(makeGrant("g_one"))
      try Self.makeDirectory(home + "/audit-journal", mode: 0o700)
      try Self.write(home + "/audit.head", mode: 0o600)
      try Self.makeDirectory(home, mode: 0o750)
      #expect(try GrantStore.repairHomePermissions(home) != nil)
      #expect(try mode(home) == 0o700)
    }
  }

  @Test func doesNothingToAPrivateOrMissingHome() throws {
    try withTemporaryHome { home in
      #expect(try GrantStore.repairHomePermissions(home) == nil)
      try Self.makeDirectory(home, mode: 0o700)
      #expect(try GrantStore.repairHomePermissions(home) == nil)
    }
  }

  @Test(arguments: [
    ("notes.txt", "'notes.txt'"),
    ("manifests/notes", nil),
    (".git", "'.git'"),
  ])
  func refusesAHomeHoldingSomethingElseWithTheChmodToRun(extra: String, named: String?) throws {
    try withTemporaryHome { home in
      try Self.makeDirectory(home + "/manifests", mode: 0o755)
      try Self.write(home + "/" + extra)
      try Self.makeDirectory(home, mode: 0o755)
      if extra.hasPrefix("manifests/") {
        // Files of manifests/ may be anything the user keeps there: only others' writing matters.
        #expect(try GrantStore.repairHomePermissions(home) != nil)
        return
      }
      let error = storeError { _ = try GrantStore.repairHomePermissions(home) }
      #expect(error?.code == .invalid)
      #expect(error?.message.contains(named ?? "") == true)
      #expect(error?.message.hasSuffix("run: chmod 700 '\(home)'") == true, "\(String(describing: error))")
      #expect(try mode(home) == 0o755)
    }
  }

  @Test func refusesAHomeOthersCouldWrite() throws {
    try withTemporaryHome { home in
      try Self.makeDirectory(home, mode: 0o775)
      let error = storeError { _ = try GrantStore.repairHomePermissions(home) }
      #expect(error?.message.contains("other users could have written to it") == true)
      #expect(error?.message.hasSuffix("chmod 700 '\(home)'") == true)
      #expect(try mode(home) == 0o775)
    }
  }

  @Test func refusesWhenSomethingInsideIsWritableByOthers() throws {
    try withTemporaryHome { home in
      try Self.makeDirectory(home + "/manifests", mode: 0o777)
      try Self.makeDirectory(home, mode: 0o755)
      let error = storeError { _ = try GrantStore.repairHomePermissions(home) }
      #expect(error?.message.contains("'manifests' (other users can write it)") == true)
      try Self.makeDirectory(home + "/manifests", mode: 0o755)
      try Self.write(home + "/manifests/x.yaml", mode: 0o666)
      let inner = storeError { _ = try GrantStore.repairHomePermissions(home) }
      #expect(inner?.message.contains("'manifests/x.yaml' (other users can write it)") == true)
      #expect(try mode(home) == 0o755)
    }
  }

  @Test func refusesWardensNamesOfTheWrongKind() throws {
    try withTemporaryHome { home in
      try Self.makeDirectory(home + "/warden.db", mode: 0o700)
      try Self.makeDirectory(home, mode: 0o755)
      let error = storeError { _ = try GrantStore.repairHomePermissions(home) }
      #expect(error?.message.contains("'warden.db' (not a regular file)") == true)
    }
  }

  @Test func neverFollowsASymbolicLink() throws {
    try withTemporaryHome { home in
      let target = home + "-target"
      try Self.makeDirectory(target, mode: 0o755)
      defer { try? FileManager.default.removeItem(atPath: target) }
      try FileManager.default.createSymbolicLink(atPath: home, withDestinationPath: target)
      #expect(try GrantStore.repairHomePermissions(home) == nil)
      #expect(try mode(target) == 0o755)
      // Left to open, which refuses it with the chmod to run.
      #expect(storeError { _ = try GrantStore.open(home: home) }?.message.contains("chmod 700") == true)
      // A link inside the home, named like warden's own file, is not warden's file.
      try FileManager.default.removeItem(atPath: home)
      try Self.makeDirectory(home, mode: 0o755)
      try FileManager.default.createSymbolicLink(
        atPath: home + "/config.yaml", withDestinationPath: "/etc/passwd")
      #expect(
        storeError { _ = try GrantStore.repairHomePermissions(home) }?.message.contains("'config.yaml'")
          == true)
    }
  }

  @Test func quotesThePathForTheShell() throws {
    try withTemporaryHome { home in
      let odd = home + "/it's here"
      try Self.makeDirectory(odd, mode: 0o755)
      try Self.write(odd + "/notes.txt")
      let error = storeError { _ = try GrantStore.repairHomePermissions(odd) }
      #expect(
        error?.message.hasSuffix("chmod 700 '\(home)/it'\\''s here'") == true, "\(String(describing: error))")
    }
  }
}
