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
