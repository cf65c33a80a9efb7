import Foundation
import Testing
import WardenCore
import WardenPostgres
import WardenStore

@Suite("PostgreSQL store URLs")
struct PostgresURLTests {
  @Test func parsesEveryPart() throws {
    let url = try PostgresURL.parse(
      "postgres://warden%40ops@db.example.com:6543/warden_prod?sslmode=verify-full&schema=team_a")
    #expect(url.user == "warden@ops" && url.host == "db.example.com" && url.port == 6543)
    #expect(url.database == "warden_prod" && url.tls == .verifyFull && url.schema == "team_a")
    #expect(try PostgresURL.parse("postgresql://u@[::1]/d?sslmode=disable").host == "::1")
    #expect(try PostgresURL.parse("postgres://u@h/d?sslmode=disable").port == 5432)
  }

  @Test(arguments: [
    "postgres://u:hunter2@h/d?sslmode=disable", "postgres://u@h/d?sslmode=disable&password=hunter2",
    "postgresql://u:hunter2@h:5432/d",
  ])
  func refusesAPasswordAndNeverRepeatsIt(_ text: String) {
    let error = storeError { _ = try PostgresURL.parse(text) }
    #expect(error?.code == .invalid)
    #expect(error?.description.contains("hunter2") == false)
    #expect(error?.description.contains("WARDEN_STORE_PASSWORD_FILE") == true)
  }

  @Test(arguments: [
    ("postgres://h/d?sslmode=disable", "names no user"),
    ("postgres://u@h?sslmode=disable", "names no database"),
    ("postgres://u@h/d", "sslmode"), ("postgres://u@h/d?sslmode=prefer", "not supported"),
    ("postgres://u@h:99999/d?sslmode=disable", "port"),
    ("postgres://u@h/d?sslmode=disable&schema=Bad-Name", "schema"),
    ("postgres://u@h/d?sslmode=disable&host=x", "unknown parameter"),
  ])
  func refusesWhatItCannotHonor(_ text: String, _ reason: String) {
    let error = storeError { _ = try PostgresURL.parse(text) }
    #expect(error?.code == .invalid)
    #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
  }

  @Test func redactsPasswordsInTextThatDoesNotParse() {
    #expect(PostgresURL.redacted("postgres://u:s3cr3t@h/d") == "postgres://u:***@h/d")
    #expect(PostgresURL.redacted("postgres://u:p@ss@h/d") == "postgres://u:***@h/d")
    #expect(
      PostgresURL.redacted("postgres://u@h/d?a=1&password=x&b=2") == "postgres://u@h/d?a=1&password=***&b=2")
    #expect(PostgresURL.redacted("postgres://u@h/d?sslmode=disable") == "postgres://u@h/d?sslmode=disable")
    #expect(PostgresURL.redacted("not a url") == "not a url")
  }

  @Test func theDescriptionHasNoPassword() throws {
    let url = try PostgresURL.parse("postgres://u@h:1/d?sslmode=verify-ca")
    #expect(url.description == "postgres://u@h:1/d?sslmode=verify-ca")
  }
}

@Suite("Choosing the store")
struct StoreSelectionTests {
  @Test func sqliteUnlessTold() throws {
    #expect(try StoreSelection.choose(configured: nil, environment: [:]).0 == .sqlite)
    let chosen = try StoreSelection.choose(
      configured: nil, environment: ["WARDEN_STORE": "postgres://u@h/d?sslmode=disable"])
    #expect(chosen.0 == .postgres(try PostgresURL.parse("postgres://u@h/d?sslmode=disable")))
  }

  @Test func theConfigurationFileWinsOverTheEnvironmentAndSaysSo() throws {
    // The agent's MCP configuration can set warden's environment, not the human's config.yaml.
    let (chosen, warning) = try StoreSelection.choose(
      configured: "postgres://team@db/warden?sslmode=verify-full",
      environment: ["WARDEN_STORE": "postgres://agent:pw@evil/db?sslmode=disable"])
    #expect(chosen == .postgres(try PostgresURL.parse("postgres://team@db/warden?sslmode=verify-full")))
    #expect(warning?.contains("ignored") == true)
    #expect(warning?.contains("pw@") == false)
    #expect(
      try StoreSelection.choose(configured: "sqlite", environment: ["WARDEN_STORE": "sqlite"]).warning == nil)
  }

  @Test func refusesAnUnknownStore() {
    #expect(
      storeError { _ = try StoreSelection.choose(configured: "mysql://x", environment: [:]) }?.code
        == .invalid)
  }
}

@Suite("The PostgreSQL store's password")
struct PostgresPasswordTests {
  @Test func fromAPrivateFileElseTheEnvironment() throws {
    try withTemporaryHome { home in
      try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
      let path = home + "/pass"
      _ = FileManager.default.createFile(atPath: path, contents: Data("s3cret\nignored\n".utf8))
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
      #expect(
        try PostgresPassword.resolve(environment: ["WARDEN_STORE_PASSWORD_FILE": path, "PGPASSWORD": "x"])
          == "s3cret")
      #expect(try PostgresPassword.resolve(environment: ["PGPASSWORD": "x"]) == "x")
      #expect(try PostgresPassword.resolve(environment: [:]) == nil)
      try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
      let error = storeError {
        _ = try PostgresPassword.resolve(environment: ["WARDEN_STORE_PASSWORD_FILE": path])
      }
      #expect(error?.code == .invalid && error?.description.contains("chmod 600") == true)
      #expect(error?.description.contains("s3cret") == false)
    }
  }
}

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

@Suite("Many writers on one store")
struct ManyWritersTests {
  /// Each thread opens its own store, as another warden (another process, another machine) would.
  @Test(arguments: Backend.all) func concurrentAppendersMakeOneChain(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let writers = 4
      let batches = 15
      let failures = Failures()
      DispatchQueue.concurrentPerform(iterations: writers) { writer in
        do {
          let own = try fixture.open()
          for batch in 0..<batches {
            try own.appendAudit([
              AuditChainTests.record(writer * 1000 + batch * 2),
              AuditChainTests.record(writer * 1000 + batch * 2 + 1),
            ])
          }
        } catch {
          failures.add("\(error)")
        }
      }
      #expect(failures.all.isEmpty, "\(failures.all)")
      let (rows, anchors) = try store.auditChainForVerification()
      #expect(rows.count == writers * batches * 2)
      #expect(
        AuditChain.verify(rows, anchors: try anchors.get())
          == .holds(records: writers * batches * 2, anchors: writers * batches))
    }
  }

  @Test(arguments: Backend.all) func ofConcurrentDecisionsTheFirstWins(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      for index in 0..<10 { try store.createHold(makeHold("h_\(index)", deadline: 9_000)) }
      let taken = Failures()
      DispatchQueue.concurrentPerform(iterations: 4) { approver in
        do {
          let own = try fixture.open()
          for index in 0..<10 {
            let hold = try own.decide(
              holdID: "h_\(index)", state: approver % 2 == 0 ? .approved : .rejected,
              by: "approver\(approver)",
              channel: "terminal", at: 2_000 + Int64(approver))
            if hold.decidedBy == "approver\(approver)" { taken.add("h_\(index)") }
          }
        } catch {
          taken.add("error: \(error)")
        }
      }
      // Exactly one decision per hold was taken, and it is the one stored.
      #expect(taken.all.sorted() == (0..<10).map { "h_\($0)" }.sorted())
      #expect(try store.pendingHolds(now: 0).isEmpty)
    }
  }
}

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

@Suite("Copying a SQLite store to PostgreSQL")
struct StoreCopyTests {
  @Test(.enabled(if: PostgresStoreTests.enabled)) func everythingArrivesAndTheTrailVerifiesThere() throws {
    try withStore(.postgres) { (target, fixture) throws in
      let sourceHome = fixture.home + "-sqlite"
      defer { try? FileManager.default.removeItem(atPath: sourceHome) }
      let source = try GrantStore.open(home: sourceHome)
      // A child issued before its parent's id sorts: parents still go first.
      try source.insert(makeGrant("g_z_parent", issuedAt: 5))
      try source.insert(makeGrant("g_a_child", issuedAt: 5, parentID: "g_z_parent"))
      try source.insert(makeGrant("f_never", effect: .forbid, expiresAt: nil))
      _ = try source.revoke(ids: ["g_z_parent"], by: "ann", at: 7)
      try source.createHold(makeHold("h_pending", deadline: 9_000))
      try source.createHold(unusualHold())
      try source.decide(
        holdID: unusualHold().id, state: .approved, by: "ann", channel: "terminal", at: 1_700_000_000_200)
      try source.tripBreaker(BreakerTrip(agent: "claude", at: 3, reason: "burst", then: .hold), session: "s")
      _ = try source.observeTools(
        server: "notes", command: "notes-server", definitions: [("a", "1"), ("b", "2")], pinNew: false, at: 1)
      _ = try source.observeTools(
        server: "notes", command: "notes-server", definitions: [("a", "9")], pinNew: false, at: 2)
      try source.appendAudit((1...6).map(AuditChainTests.record))
      let (rows, _) = try source.auditChainForVerification()
      let plan = try #require(AuditPrune.plan(rows, before: 3))
      _ = try source.pruneAudit(
        plan, record: AuditPrune.record(plan, before: 3, at: 7, by: "ann", attestation: "cli-terminal"))
      try source.appendAudit([AuditChainTests.record(8)])

      let report = try StoreCopy.copy(from: source, to: try #require(target as? PostgresStore))
      #expect(report.grants == 3 && report.holds == 2 && report.toolPins == 2 && report.breakerTrips == 1)
      #expect(report.auditRecords == 6 && report.anchors == 3)
      #expect(try target.allGrants() == source.allGrants())
      #expect(try target.recentHolds(limit: 10) == source.recentHolds(limit: 10))
      #expect(try target.toolPins(server: nil) == source.toolPins(server: nil))
      #expect(try target.breakerTrips() == source.breakerTrips())
      #expect(try target.auditRecords() == source.auditRecords())
      #expect(try target.auditDigestKey() == source.auditDigestKey())
      // The trail verifies on PostgreSQL, against the SQLite store's heads copied into this home's
      // anchor, and goes on from there.
      try target.appendAudit([AuditChainTests.record(9)])
      let (copied, anchors) = try target.auditChainForVerification()
      #expect(AuditChain.verify(copied, anchors: try anchors.get()) == .holds(records: 7, anchors: 4))
      // Never into a store that holds something.
      let again = storeError {
        _ = try StoreCopy.copy(from: source, to: try #require(target as? PostgresStore))
      }
      #expect(again?.code == .invalid && again?.description.contains("not empty") == true)
    }
  }

  @Test(.enabled(if: PostgresStoreTests.enabled)) func aTrailThatDoesNotVerifyIsNotCopied() throws {
    try withStore(.postgres) { (target, fixture) throws in
      let sourceHome = fixture.home + "-sqlite"
      defer { try? FileManager.default.removeItem(atPath: sourceHome) }
      let source = try GrantStore.open(home: sourceHome)
      try source.insert(makeGrant("g_one"))
      try source.appendAudit((1...3).map(AuditChainTests.record))
      _ = try sqlite3(source.databasePath, "DELETE FROM audit WHERE seq = 2")
      let error = storeError {
        _ = try StoreCopy.copy(from: source, to: try #require(target as? PostgresStore))
      }
      #expect(error?.code == .unreadable && error?.description.contains("does not verify") == true)
      #expect(try target.allGrants().isEmpty)
    }
  }
}

/// SPEC's GRANT statements, run as they are written there (with this test's names), and each role
/// doing what its user does and refused what it must not.
@Suite("Least privilege on PostgreSQL")
struct PostgresRolesTests {
  /// The ```sql block under "**Least privilege.**" in SPEC.md, split where the owner takes over.
  static func specStatements(prefix: String) throws -> (superuser: String, owner: String) {
    let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("SPEC.md")
    let text = try String(contentsOf: spec, encoding: .utf8)
    guard let section = text.range(of: "**Least privilege.**"),
      let start = text.range(of: "```sql\n", range: section.upperBound..<text.endIndex),
      let end = text.range(of: "```", range: start.upperBound..<text.endIndex)
    else { throw TestSetupError("SPEC.md has no sql block under **Least privilege.**") }
    var sql = String(text[start.upperBound..<end.lowerBound])
    sql = sql.replacingOccurrences(
      of: #"\bwarden_(owner|run|approve|admin)\b"#, with: prefix + "_$1", options: .regularExpression)
    sql = sql.replacingOccurrences(of: #"\bwarden\b"#, with: prefix, options: .regularExpression)
    guard let split = sql.range(of: "-- as \(prefix)_owner") else {
      throw TestSetupError("SPEC.md's block does not say where the owner takes over")
    }
    return (String(sql[..<split.lowerBound]), String(sql[split.lowerBound...]))
  }

  @Test(.enabled(if: PostgresStoreTests.enabled)) func eachRoleDoesItsJobAndNothingMore() throws {
    let environment = ProcessInfo.processInfo.environment
    let server = try PostgresURL.parse(environment["WARDEN_TEST_POSTGRES"] ?? "")
    let superPassword = environment["WARDEN_TEST_POSTGRES_PASSWORD"]
    let prefix = "r_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    let (asSuperuser, asOwner) = try Self.specStatements(prefix: prefix)
    let password = "pw-" + UUID().uuidString
    let roles = ["owner", "run", "approve", "admin"].map { "\(prefix)_\($0)" }
    defer {
      _ = try? psql(
        server, password: superPassword,
        "DROP SCHEMA IF EXISTS \(prefix) CASCADE; DROP ROLE IF EXISTS \(roles.reversed().joined(separator: ", "))"
      )
    }
    let created = try psql(
      server, password: superPassword,
      asSuperuser + roles.map { "ALTER ROLE \($0) PASSWORD '\(password)';" }.joined(separator: "\n"))
    try #require(created.status == 0, "\(created.error)")
    func url(_ role: String) -> PostgresURL {
      var url = server
      url.user = "\(prefix)_\(role)"
      url.schema = prefix
      return url
    }
    #expect(try PostgresStore.migrate(url: url("owner"), password: password) == [1])
    let granted = try psql(url("owner"), password: password, asOwner)
    try #require(granted.status == 0, "\(granted.error)")

    try withTemporaryHome { home in
      func open(_ role: String) throws -> PostgresStore {
        try PostgresStore.open(url: url(role), password: password, home: home + "-" + role)
      }
      func refused(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = storeError(body)
        #expect(
          error?.code == .cannotOpen && error?.description.contains("permission denied") == true,
          "\(String(describing: error))", sourceLocation: sourceLocation)
      }
      let admin = try open("admin")
      let run = try open("run")
      let approve = try open("approve")

      // The administrator issues and revokes.
      var limited = makeGrant("g_limited", expiresAt: 9_000)
      limited.rateLimit = RateLimit(count: 5, periodMilliseconds: 1_000)
      try admin.insert(limited)
      try admin.insert(makeGrant("g_other"))
      #expect(try admin.revoke(ids: ["g_other"], by: "ann", at: 2) == ["g_other"])

      // A running warden does everything a session does.
      _ = try run.changeToken()
      #expect(try run.liveGrants(now: 0, server: "git").map(\.id) == ["g_limited"])
      try run.recordUse(grantID: "g_limited", at: 10)
      #expect(try run.useCount(grantID: "g_limited", since: 0) == 1)
      try run.createHold(makeHold("h_expires", deadline: 5_000))
      try run.createHold(makeHold("h_approved", deadline: 9_000))
      #expect(
        try run.decide(holdID: "h_expires", state: .expired, by: "warden", channel: "timeout", at: 5_001)
          .state == .expired)
      #expect(
        try run.tripBreaker(BreakerTrip(agent: "claude", at: 3, reason: "burst", then: .deny), session: "s"))
      _ = try run.observeTools(server: "notes", command: "n", definitions: [("a", "1")], pinNew: false, at: 1)
      _ = try run.observeTools(server: "notes", command: "n", definitions: [("a", "2")], pinNew: false, at: 2)
      #expect(try run.driftedTools(server: "notes", command: "n") == ["a": .changed])
      try run.appendAudit([AuditRecord(json: AuditChainTests.record(1))!], journal: ("s1", 1))
      try run.finishAuditJournal(session: "s1")
      #expect(try run.auditDigestKey().count == 32)
      // ...and nothing a human decides.
      refused { try run.insert(makeGrant("g_self")) }
      refused { _ = try run.revokeAll(by: "agent", at: 3) }
      refused { _ = try run.resetBreaker(agent: "claude") }
      refused { _ = try run.acceptTools(server: "notes", tool: nil, by: "agent", at: 3) }
      let (rows, _) = try run.auditChainForVerification()
      let plan = try #require(AuditPrune.plan(rows, before: Int64.max))
      let prune = AuditPrune.record(plan, before: Int64.max, at: 4, by: "agent", attestation: "cli-scripted")
      do throws(AuditPruneError) {
        _ = try run.pruneAudit(plan, record: prune)
        Issue.record("a running warden pruned the trail")
      } catch {
        #expect(error.pruneRecord != nil && error.cause.description.contains("permission denied"))
      }

      // An approver decides holds and nothing else.
      #expect(
        try approve.decide(holdID: "h_approved", state: .approved, by: "bob", channel: "terminal", at: 3)
          .state
          == .approved)
      refused { try approve.insert(makeGrant("g_approver")) }
      refused { try approve.recordUse(grantID: "g_limited", at: 11) }
      refused { try approve.appendAudit([AuditChainTests.record(2)]) }

      // The administrator resets, accepts, prunes (and may approve).
      #expect(try admin.resetBreaker(agent: "claude") != nil)
      #expect(try admin.acceptTools(server: "notes", tool: nil, by: "ann", at: 5).count == 1)
      #expect(
        try admin.decide(holdID: "h_approved", state: .rejected, by: "ann", channel: "terminal", at: 6).state
          == .approved)
    }
  }
}

/// TLS as the URL asks for it, against the test cluster's certificate for `localhost` from a
/// throwaway CA (`WARDEN_TEST_POSTGRES_CA`, made by Tests/postgres.sh).
@Suite("TLS to the PostgreSQL store")
struct PostgresTLSTests {
  static var authority: String? {
    ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES_CA"].flatMap { $0.isEmpty ? nil : $0 }
  }

  @Test(.enabled(if: PostgresStoreTests.enabled && authority != nil))
  func verifyFullChecksTheChainAndTheNameAndVerifyCAOnlyTheChain() throws {
    try withStore(.postgres) { (_, fixture) throws in
      let base = try #require(fixture.url)
      func url(host: String, _ mode: PostgresURL.TLSMode, root: String?) -> PostgresURL {
        var url = base
        url.host = host
        url.tls = mode
        url.rootCertificate = root
        return url
      }
      func open(_ url: PostgresURL) throws -> PostgresStore {
        try PostgresStore.open(url: url, password: fixture.password, home: fixture.home)
      }
      // The name and the chain check out: it works, and over TLS.
      let store = try open(url(host: "localhost", .verifyFull, root: Self.authority))
      _ = try store.changeToken()
      let encrypted = try fixture.sqlSucceeding(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND application_name = 'warden'"
      )
      #expect((Int(encrypted.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1)
      // Another name than the certificate's: refused by verify-full, accepted by verify-ca.
      let wrongName = storeError { _ = try open(url(host: "127.0.0.1", .verifyFull, root: Self.authority)) }
      #expect(wrongName?.code == .cannotOpen && wrongName?.description.contains("TLS") == true)
      _ = try open(url(host: "127.0.0.1", .verifyCA, root: Self.authority)).changeToken()
      // A chain the trust roots do not vouch for: refused by both.
      for mode in [PostgresURL.TLSMode.verifyFull, .verifyCA] {
        let untrusted = storeError { _ = try open(url(host: "localhost", mode, root: nil)) }
        #expect(untrusted?.code == .cannotOpen && untrusted?.description.contains("TLS") == true)
        #expect(untrusted?.description.contains(fixture.password ?? "-") == false)
      }
    }
  }
}
