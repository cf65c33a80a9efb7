import Foundation
import GRDBSQLite
import Testing
import WardenCore
import WardenSQL

/// What the corpus shows less clearly: tables of one statement kind across both dialects, the schema
/// file, and calls from several threads at once.
@Suite("SQL classifier")
struct SQLClassifierTests {
  let classifier = SQLClassifier()

  func kinds(_ text: String, _ dialect: SQLDialect, schema: String? = nil) throws -> [String] {
    try classifier.operations(in: text, dialect: dialect, schema: schema).map(\.description)
  }

  // MARK: - Both dialects agree where SQL agrees

  @Test(
    arguments: [
      ("DELETE FROM contacts", ["0: delete contacts"]),
      ("DROP TABLE contacts", ["0: drop contacts"]),
      ("INSERT INTO t VALUES (1)", ["0: insert t"]),
      ("SELECT * FROM t", ["0: read t"]),
      ("CREATE TABLE t (a int)", ["0: create t"]),
      ("BEGIN", ["0: transaction"]),
      ("SELECT 1; DELETE FROM t", ["0: read", "1: delete t"]),
      ("WITH d AS (SELECT * FROM t) SELECT * FROM d", ["0: read t"]),
    ])
  func bothDialects(_ text: String, _ expected: [String]) throws {
    for dialect in SQLDialect.allCases {
      #expect(try kinds(text, dialect) == expected, "\(dialect)")
    }
  }

  /// Text that a parser rejects, or that is empty, gives no operations at all: no scope, deny.
  @Test(
    arguments: SQLDialect.allCases.flatMap { dialect in
      ["", " ", "--", "/* */", ";", "DELETE FROM", "DROP", "SELECT (", "\u{0}"].map { (dialect, $0) }
    })
  func noScope(_ dialect: SQLDialect, _ text: String) {
    #expect(throws: SQLClassificationError.self) {
      try classifier.operations(in: text, dialect: dialect, schema: nil)
    }
  }

  /// What a refusal says: one line, lowercase, the culprit quoted.
  @Test func refusalMessages() {
    #expect(throws: SQLClassificationError("sql calls 'load_extension', which reaches outside the database"))
    {
      try classifier.operations(in: "SELECT load_extension('x')", dialect: .sqlite, schema: nil)
    }
    #expect(throws: SQLClassificationError("sql calls 'pg_read_file', which reaches outside the database")) {
      try classifier.operations(in: "SELECT 1; SELECT pg_read_file('x')", dialect: .postgres, schema: nil)
    }
    #expect(throws: SQLClassificationError("no sql statement in the text")) {
      try classifier.operations(in: "-- only", dialect: .sqlite, schema: nil)
    }
  }

  @Test func statementIndicesCountOnlyStatements() throws {
    let operations = try classifier.operations(
      in: "; -- a\n SELECT 1;; /* b */ DELETE FROM t; ;", dialect: .sqlite, schema: nil)
    #expect(operations.map(\.statement) == [0, 1])
  }

  @Test func unknownNamesAreStubbedWithoutASchema() throws {
    #expect(
      try kinds(
        "SELECT u.name, o.total FROM users u JOIN orders o ON o.uid = u.id WHERE o.total > 9", .sqlite)
        == ["0: read users", "0: read orders"])
    #expect(try kinds("INSERT INTO wide VALUES (1, 2, 3, 4, 5)", .sqlite) == ["0: insert wide"])
    #expect(
      try kinds("INSERT INTO t(a, b, c) SELECT x, y, z FROM s", .sqlite) == ["0: insert t", "0: read s"])
    #expect(try kinds("SELECT a FROM t ORDER BY b COLLATE custom", .sqlite) == ["0: read t"])
  }

  // MARK: - The schema file

  /// A fresh directory, removed afterwards.
  func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
    var template = Array((NSTemporaryDirectory() + "/warden-sql-XXXXXX").utf8CString)
    let base = try #require(mkdtemp(&template))
    let directory = String(cString: base)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try body(directory)
  }

  func makeDatabase(_ path: String, _ sql: String) throws {
    var handle: OpaquePointer?
    #expect(sqlite3_open(path, &handle) == SQLITE_OK)
    defer { sqlite3_close(handle) }
    #expect(sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK)
  }

  @Test func theSchemaFileIsReadAndLeftAlone() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/app.db"
      try makeDatabase(
        path,
        """
        CREATE TABLE Contacts(id INTEGER PRIMARY KEY, email TEXT UNIQUE);
        CREATE TABLE audit(what TEXT);
        CREATE VIEW recent AS SELECT email FROM contacts WHERE id > 10;
        CREATE TRIGGER keep AFTER DELETE ON contacts BEGIN INSERT INTO audit VALUES ('gone'); END;
        INSERT INTO contacts(email) VALUES ('a@example.com');
        """)
      let before = try Data(contentsOf: URL(fileURLWithPath: path))
      let listing = try FileManager.default.contentsOfDirectory(atPath: directory)
      let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date

      // The trigger's insert and the view's table come from the schema; the view is read too.
      #expect(
        try kinds("DELETE FROM contacts", .sqlite, schema: path) == ["0: delete contacts", "0: insert audit"])
      #expect(
        try kinds("SELECT * FROM recent", .sqlite, schema: path) == ["0: read contacts", "0: read recent"])
      // The upsert's conflict target is the file's own unique column.
      #expect(
        try kinds(
          "INSERT INTO contacts(email) VALUES ('b') ON CONFLICT(email) DO NOTHING", .sqlite, schema: path)
          == ["0: insert contacts", "0: read contacts"])
      // A column the file lacks is an error of the statement, not a stub.
      #expect(throws: SQLClassificationError("no such column: phone")) {
        try classifier.operations(in: "SELECT phone FROM contacts", dialect: .sqlite, schema: path)
      }
      // A table created earlier in the same text is still known.
      #expect(
        try kinds("CREATE TABLE n(a); SELECT a FROM n", .sqlite, schema: path) == [
          "0: create n", "1: read n",
        ])
      #expect(
        try kinds("VACUUM; PRAGMA writable_schema = 1; DROP TABLE contacts", .sqlite, schema: path)
          == ["0: vacuum", "1: pragma", "2: drop contacts", "2: drop keep"])

      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == listing)
      #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == modified)
    }
  }

  /// A read-only connection to a WAL database that nobody has open would leave `-wal` and `-shm`
  /// files behind.
  @Test func anIdleWALDatabaseGetsNoCompanionFiles() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/wal.db"
      try makeDatabase(path, "PRAGMA journal_mode = WAL; CREATE TABLE t(a); CREATE TABLE log(a);")
      try makeDatabase(path, "CREATE TRIGGER keep AFTER DELETE ON t BEGIN INSERT INTO log VALUES (1); END;")
      let before = try Data(contentsOf: URL(fileURLWithPath: path))
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["wal.db"])
      #expect(try kinds("DELETE FROM t", .sqlite, schema: path) == ["0: delete t", "0: insert log"])
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["wal.db"])
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
  }

  @Test func aPathWithURICharactersIsAFileName() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/a?mode=rwc#x%20 y.db"
      try makeDatabase(path, "CREATE TABLE t(a)")
      #expect(try kinds("SELECT a FROM t", .sqlite, schema: path) == ["0: read t"])
    }
  }

  @Test func aMissingSchemaFileThrowsAndIsNotCreated() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/missing.db"
      #expect(throws: SQLClassificationError("no database file at '\(path)'")) {
        try classifier.operations(in: "SELECT 1", dialect: .sqlite, schema: path)
      }
      #expect(!FileManager.default.fileExists(atPath: path))
      #expect(throws: SQLClassificationError("'\(directory)' is not a database file")) {
        try classifier.operations(in: "SELECT 1", dialect: .sqlite, schema: directory)
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
  }

  @Test func aFileThatIsNotADatabaseThrows() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/notes.txt"
      try Data("not a database, but long enough to hold a header of sorts".utf8).write(
        to: URL(fileURLWithPath: path))
      #expect(throws: SQLClassificationError.self) {
        try classifier.operations(in: "SELECT 1", dialect: .sqlite, schema: path)
      }
    }
  }

  @Test func postgresIgnoresTheSchema() throws {
    #expect(try kinds("SELECT * FROM t", .postgres, schema: "/nonexistent/x.db") == ["0: read t"])
  }

  // MARK: - Threads

  @Test func concurrentCallsAgree() async throws {
    let texts: [(String, SQLDialect)] = [
      ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", .postgres),
      ("INSERT OR REPLACE INTO t(a) VALUES (1); SELECT * FROM u JOIN v USING (id)", .sqlite),
      ("SELEC", .postgres),
      ("SELECT x FROM nowhere WHERE y = 1", .sqlite),
    ]
    let classifier = self.classifier
    let expected = texts.map { text, dialect in
      (try? classifier.operations(in: text, dialect: dialect, schema: nil))?.map(\.description) ?? ["error"]
    }
    try await withThrowingTaskGroup(of: Bool.self) { group in
      for round in 0..<64 {
        group.addTask {
          let (text, dialect) = texts[round % texts.count]
          let got =
            (try? classifier.operations(in: text, dialect: dialect, schema: nil))?.map(\.description) ?? [
              "error"
            ]
          return got == expected[round % texts.count]
        }
      }
      for try await agreed in group { #expect(agreed) }
    }
  }
}
