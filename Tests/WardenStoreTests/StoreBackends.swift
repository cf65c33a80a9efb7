import Foundation
import Testing
import WardenPostgres
import WardenStore

/// The store backends the shared store tests run against: SQLite always; PostgreSQL when
/// `WARDEN_TEST_POSTGRES` names a server (`postgres://USER@HOST:PORT/DATABASE?sslmode=disable`, the
/// password in `WARDEN_TEST_POSTGRES_PASSWORD`; `Tests/postgres.sh start` makes a throwaway one).
/// With `WARDEN_REQUIRE_POSTGRES=1` (CI) a missing URL fails the PostgreSQL runs instead of leaving
/// them out.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
  case sqlite
  case postgres

  static var all: [Backend] {
    let environment = ProcessInfo.processInfo.environment
    if environment["WARDEN_TEST_POSTGRES"]?.isEmpty == false || environment["WARDEN_REQUIRE_POSTGRES"] == "1"
    {
      return [.sqlite, .postgres]
    }
    return [.sqlite]
  }

  var testDescription: String { rawValue }
}

/// One test's store: a fresh SQLite home, or a fresh schema of the test server (dropped after).
final class StoreFixture: Sendable {
  let backend: Backend
  /// This test's warden home (the audit anchor and journals; the SQLite file too).
  let home: String
  /// The PostgreSQL store's URL, with this test's schema.
  let url: PostgresURL?
  let password: String?

  init(backend: Backend, home: String, url: PostgresURL?, password: String?) {
    self.backend = backend
    self.home = home
    self.url = url
    self.password = password
  }

  /// Another instance on the same store, as another process (or machine) would open it.
  func open() throws -> any DelegationStore {
    switch backend {
    case .sqlite: return try GrantStore.open(home: home)
    case .postgres: return try PostgresStore.open(url: url!, password: password, home: home)
    }
  }

  /// Runs `sql` in a real second process, the store's own shell (sqlite3, psql), bypassing warden:
  /// what a person editing the database by hand could do.
  func sql(_ sql: String) throws -> (status: Int32, output: String, error: String) {
    switch backend {
    case .sqlite: return try sqlite3Output(home + "/warden.db", sql)
    case .postgres: return try psql(url!, password: password, sql)
    }
  }

  /// `sql`, which must succeed.
  @discardableResult
  func sqlSucceeding(_ text: String) throws -> String {
    let result = try sql(text)
    #expect(result.status == 0, "\(backend) refused \(text): \(result.error)")
    return result.output
  }
}

/// Runs `body` with a fresh store of `backend`.
func withStore<T>(_ backend: Backend, _ body: (any DelegationStore, StoreFixture) throws -> T) throws -> T {
  try withTemporaryHome { home in
    switch backend {
    case .sqlite:
      let fixture = StoreFixture(backend: .sqlite, home: home, url: nil, password: nil)
      return try body(try GrantStore.open(home: home), fixture)
    case .postgres:
      let environment = ProcessInfo.processInfo.environment
      guard let text = environment["WARDEN_TEST_POSTGRES"], !text.isEmpty else {
        throw TestSetupError(
          "WARDEN_REQUIRE_POSTGRES=1 but WARDEN_TEST_POSTGRES is not set: the PostgreSQL store tests cannot run"
        )
      }
      var url = try PostgresURL.parse(text)
      url.schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
      let password = environment["WARDEN_TEST_POSTGRES_PASSWORD"]
      _ = try PostgresStore.migrate(url: url, password: password)
      defer {
        var server = url
        server.schema = nil
        _ = try? psql(server, password: password, "DROP SCHEMA \(url.schema!) CASCADE")
      }
      let fixture = StoreFixture(backend: .postgres, home: home, url: url, password: password)
      return try body(try fixture.open(), fixture)
    }
  }
}

struct TestSetupError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Runs psql on `url`'s database, in its schema, with `sql`.
func psql(_ url: PostgresURL, password: String?, _ sql: String) throws -> (
  status: Int32, output: String, error: String
) {
  var environment = ProcessInfo.processInfo.environment
  environment["PGPASSWORD"] = password
  environment["PGOPTIONS"] = url.schema.map { "-c search_path=\($0)" }
  environment["PGCONNECT_TIMEOUT"] = "5"
  return try runCapturing(
    "/usr/bin/psql",
    [
      "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", url.host, "-p", String(url.port), "-U", url.user,
      "-d", url.database, "-c", sql,
    ], environment: environment)
}
