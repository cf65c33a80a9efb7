import Foundation
import Testing
import WardenCore
import WardenPostgres
import WardenStore

/// A database that goes away under a running store: every operation fails closed, and the same store
/// works again once the database is back, without being opened again.
@Suite("The PostgreSQL store without its database")
struct PostgresRecoveryTests {
  @Test(.enabled(if: PostgresStoreTests.enabled)) func failsClosedWhileTheDatabaseIsAwayAndRecoversByItself()
    throws
  {
    try withTemporaryHome { home in
      let cluster = try ThrowawayCluster()
      defer { cluster.remove() }
      _ = try PostgresStore.migrate(url: cluster.url, password: cluster.password)
      let store = try PostgresStore.open(url: cluster.url, password: cluster.password, home: home)
      try store.insert(makeGrant("g_one"))
      try store.createHold(makeHold("h_1", deadline: 9_000))
      let token = try store.changeToken()

      try cluster.run("stop")
      for failure in [
        storeError { _ = try store.changeToken() }, storeError { _ = try store.liveGrants(now: 0) },
        storeError { _ = try store.holdStates(ids: ["h_1"]) },
        storeError { try store.appendAudit([AuditChainTests.record(1)]) },
      ] {
        #expect(failure?.code == .io, "\(String(describing: failure))")
        #expect(failure?.description.contains(cluster.password) == false)
      }

      try cluster.run("resume")
      #expect(try store.changeToken() == token)
      #expect(try store.liveGrants(now: 0).map(\.id) == ["g_one"])
      // The held call is still held: it survived the restart, undecided.
      #expect(try store.holdStates(ids: ["h_1"]) == ["h_1": .pending])
      try store.appendAudit([AuditChainTests.record(1)])
      let (rows, anchors) = try store.auditChainForVerification()
      #expect(AuditChain.verify(rows, anchors: try anchors.get()) == .holds(records: 1, anchors: 1))
    }
  }
}

extension PostgresRecoveryTests {
  @Test(.enabled(if: PostgresStoreTests.enabled)) func aStoreOpenedBeforeItsDatabaseIsThereIsUsedOnceItIs()
    throws
  {
    try withTemporaryHome { home in
      let cluster = try ThrowawayCluster()
      defer { cluster.remove() }
      try cluster.run("stop")
      // A command fails at once; `warden run` gets a store that denies until the database is there.
      #expect(
        storeError { _ = try PostgresStore.open(url: cluster.url, password: cluster.password, home: home) }?
          .code == .io)
      let store = try PostgresStore.open(
        url: cluster.url, password: cluster.password, home: home, waitForDatabase: true)
      #expect(storeError { _ = try store.changeToken() }?.code == .io)
      try cluster.run("resume")
      // There, but not migrated: still refused, with what to do.
      let unmigrated = storeError { _ = try store.liveGrants(now: 0) }
      #expect(
        unmigrated?.code == .unreadable && unmigrated?.description.contains("warden store migrate") == true)
      _ = try PostgresStore.migrate(url: cluster.url, password: cluster.password)
      #expect(try store.liveGrants(now: 0).isEmpty)
      _ = try store.changeToken()
    }
  }
}

/// A PostgreSQL cluster of a test's own (`Tests/postgres.sh`), which it may stop and start.
struct ThrowawayCluster {
  let directory: String
  let url: PostgresURL
  let password: String
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("postgres.sh").path

  /// Starts one in a new directory of the system's temporary directory (not inside a test's home:
  /// as root, the cluster runs as the postgres user, who must be able to reach it).
  init() throws {
    var template = Array((NSTemporaryDirectory() + "/warden-cluster-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else {
      throw TestSetupError("cannot make a directory for the cluster")
    }
    let directory = String(cString: made)
    self.directory = directory
    let output = try Self.script(["start", directory])
    var values: [String: String] = [:]
    for line in output.split(separator: "\n") where line.hasPrefix("export ") {
      let assignment = line.dropFirst(7)
      guard let equals = assignment.firstIndex(of: "=") else { continue }
      values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        .trimmingCharacters(in: CharacterSet(charactersIn: "'"))
    }
    url = try PostgresURL.parse(values["WARDEN_TEST_POSTGRES"] ?? "")
    password = values["WARDEN_TEST_POSTGRES_PASSWORD"] ?? ""
  }

  func run(_ action: String) throws { _ = try Self.script([action, directory]) }

  func remove() {
    _ = try? Self.script(["stop", directory])
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Runs `Tests/postgres.sh` with `arguments`; its standard output. Not through `Process`: the
  /// server the script leaves running would keep the pipes `Process` watches open, and
  /// `waitUntilExit` would never return.
  @discardableResult
  static func script(_ arguments: [String]) throws -> String {
    var template = Array((NSTemporaryDirectory() + "/warden-cluster-out-XXXXXX").utf8CString)
    let descriptor = mkstemp(&template)
    guard descriptor >= 0 else { throw TestSetupError("cannot make a file for the script's output") }
    let outputPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    defer {
      close(descriptor)
      unlink(outputPath)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, descriptor, 1)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    let argv = ["/bin/bash", script] + arguments
    var cArguments = argv.map { strdup($0) } + [nil]
    defer { for argument in cArguments { free(argument) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/bin/bash", &actions, nil, &cArguments, environ) == 0 else {
      throw TestSetupError("cannot run Tests/postgres.sh")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    guard status == 0 else {
      throw TestSetupError("Tests/postgres.sh \(arguments.joined(separator: " ")) failed")
    }
    return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
  }
}
