import Foundation
import Testing
import WardenCore
import WardenStore

@Suite struct ConcurrencyTests {
  @Test func concurrentWritersLoseNothing() throws {
    try withTemporaryHome { home in
      _ = try GrantStore.open(home: home)
      let writers = 6
      let perWriter = 40
      let failures = Failures()
      // Each thread opens its own store (its own connections, as another process would) and inserts.
      DispatchQueue.concurrentPerform(iterations: writers) { writer in
        do {
          let store = try GrantStore.open(home: home)
          for index in 0..<perWriter {
            try store.insert(makeGrant("g_\(writer)_\(index)", issuedAt: Int64(index)))
            if index % 10 == 0 { _ = try store.liveGrants(now: 0) }
          }
        } catch {
          failures.add("\(error)")
        }
      }
      // Real other processes write too, while this one does.
      let processes = (0..<3).map { writer in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        let inserts = (0..<20).map { index in
          "INSERT INTO grants (id, effect, actions, resources, agent, server, confirm, purpose, issued_by,"
            + " issued_at, expires_at) VALUES ('g_cli_\(writer)_\(index)', 'allow', '[\"a\"]', '[]',"
            + " '*', '*', '[]', 'p', 'cli', 1, 2);"
        }
        process.arguments = ["-bail", "-cmd", ".timeout 5000", home + "/warden.db", inserts.joined()]
        return process
      }
      let store = try GrantStore.open(home: home)
      for process in processes { try process.run() }
      for index in 0..<20 { try store.insert(makeGrant("g_main_\(index)")) }
      for process in processes {
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
      }
      #expect(failures.all.isEmpty)
      #expect(try store.allGrants().count == writers * perWriter + 3 * 20 + 20)
    }
  }

  @Test func concurrentFirstOpensSetUpOnce() throws {
    try withTemporaryHome { home in
      let failures = Failures()
      DispatchQueue.concurrentPerform(iterations: 8) { index in
        do {
          try GrantStore.open(home: home).insert(makeGrant("g_\(index)"))
        } catch {
          failures.add("\(error)")
        }
      }
      let count = try GrantStore.open(home: home).allGrants().count
      #expect(failures.all.isEmpty)
      #expect(count == 8)
    }
  }
}

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [String] = []

  func add(_ failure: String) { lock.withLock { list.append(failure) } }
  var all: [String] { lock.withLock { list } }
}
