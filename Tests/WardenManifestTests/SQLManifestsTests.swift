import Foundation
import Testing
import WardenCore
import WardenJSON
import WardenManifest
import WardenSQL

/// The built-in manifests of the SQL servers (manifests/sqlite.yaml, manifests/postgres.yaml), their
/// templates computed with the real classifier (SQLite's and PostgreSQL's own parsers), as
/// `warden run` computes them. The e2e suite checks them against the real servers' `tools/list`.
@Suite struct SQLManifestsTests {
  /// One operation as text: `action resource resource... [destructive]`.
  typealias Operation = String

  /// The operations of a call of `tool` with `arguments` (JSON text) under the built-in manifest
  /// `server`; throws the denial's message when it has no scope.
  static func operations(
    _ server: String, _ tool: String, _ arguments: String, context: [String: String]
  ) throws -> [Operation] {
    try operations(server, tool, json: try JSONValue.parse(arguments).json, context: context)
  }

  static func operations(
    _ server: String, _ tool: String, json arguments: JSON, context: [String: String]
  ) throws -> [Operation] {
    let manifest = try #require(BuiltinManifests.builtin(named: server))
    let call = ToolCall(server: "db-x", agent: "a", tool: tool, arguments: arguments)
    switch manifest.scopes(for: call, annotations: nil, context: context, sql: SQLClassifier()) {
    case .success(let scopes):
      let parts =
        scopes.operations.isEmpty
        ? [
          CallScopes.Operation(
            action: scopes.action, resources: scopes.resources, destructive: scopes.destructive)
        ]
        : scopes.operations
      return parts.map { part in
        ([part.action] + part.resources.map(\.text) + (part.destructive ? ["[destructive]"] : []))
          .joined(separator: " ")
      }
    case .failure(let denial):
      throw SQLManifestDenial(message: denial.message)
    }
  }

  struct SQLManifestDenial: Error { var message: String }

  // MARK: - mcp-server-sqlite

  /// A database file with a trigger and a view, as a production database may have.
  static func sqliteSchema() throws -> String {
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("warden-sqlite-manifest-\(UUID().uuidString).db").path
    try? FileManager.default.removeItem(atPath: path)
    let schema = """
      CREATE TABLE contacts(id INTEGER PRIMARY KEY, name TEXT UNIQUE, email TEXT);
      CREATE TABLE log(message TEXT);
      CREATE TRIGGER purge AFTER INSERT ON log BEGIN DELETE FROM contacts; END;
      CREATE VIEW people AS SELECT name FROM contacts;
      """
    let sqlite = Process()
    sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    sqlite.arguments = ["sqlite3", path, schema]
    try sqlite.run()
    sqlite.waitUntilExit()
    #expect(sqlite.terminationStatus == 0, "sqlite3 created the schema file")
    return path
  }

  @Test func sqliteDeclaresEveryToolOfTheServer() throws {
    let sqlite = try #require(BuiltinManifests.builtin(named: "mcp-server-sqlite"))
    #expect(sqlite.server == "sqlite")
    // mcp-server-sqlite 2025.4.25's tools/list (Tests/e2e/test_sql_servers.py checks it live).
    #expect(
      Set(sqlite.tools.keys)
        == ["read_query", "write_query", "create_table", "list_tables", "describe_table", "append_insight"])
    for tool in ["read_query", "write_query", "create_table"] {
      let rule = try #require(sqlite.tools[tool])
      #expect(rule.sql?.dialect == .sqlite, "\(tool) classifies its SQL")
    }
  }

  @Test func sqliteOperationsWithTheDatabaseSchema() throws {
    let path = try Self.sqliteSchema()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let dev = ["db": "dev", "db_path": path]
    func write(_ query: String) throws -> [Operation] {
      try Self.operations(
        "sqlite", "write_query", json: .object([JSON.Member("query", .string(query))]), context: dev)
    }
    #expect(
      try write("INSERT INTO contacts(name) VALUES ('ann')") == ["sqlite.insert db:dev table:dev/contacts"])
    #expect(try write("DELETE FROM contacts") == ["sqlite.delete db:dev table:dev/contacts [destructive]"])
    #expect(
      try write("INSERT OR REPLACE INTO contacts(name) VALUES ('ann')") == [
        "sqlite.insert db:dev table:dev/contacts", "sqlite.delete db:dev table:dev/contacts [destructive]",
      ])
    // The trigger of the real database: an insert into log also deletes every contact.
    #expect(
      try write("INSERT INTO log VALUES ('x')") == [
        "sqlite.insert db:dev table:dev/log", "sqlite.delete db:dev table:dev/contacts [destructive]",
      ])
    #expect(
      try write("/* tidy */ WITH old AS (SELECT id FROM contacts) DELETE FROM contacts WHERE id IN old")
        .contains("sqlite.delete db:dev table:dev/contacts [destructive]"))
    #expect(
      try write("INSERT INTO log VALUES (1); DROP TABLE contacts").contains(
        "sqlite.drop db:dev table:dev/contacts [destructive]"))
    #expect(try write("VACUUM INTO '/tmp/copy.db'").contains("sqlite.write db:dev [destructive]"))
    #expect(try write("ATTACH '/tmp/other.db' AS other") == ["sqlite.attach db:dev"])
    #expect(try write("PRAGMA writable_schema = ON") == ["sqlite.pragma db:dev"])
    #expect(throws: SQLManifestDenial.self) { try write("SELECT load_extension('/tmp/evil')") }
    #expect(throws: SQLManifestDenial.self) { try write("DELETE FROM") }

    // The tools without SQL name what the same SQL through read_query would.
    let listed = try Self.operations("sqlite", "list_tables", "{}", context: dev)
    let read = try Self.operations(
      "sqlite", "read_query", #"{"query": "SELECT name FROM sqlite_master WHERE type='table'"}"#, context: dev
    )
    #expect(listed == ["sqlite.read db:dev table:dev/sqlite_master"] && listed == read)
    #expect(
      try Self.operations("sqlite", "describe_table", #"{"table_name": "Contacts"}"#, context: dev) == [
        "sqlite.read db:dev table:dev/contacts"
      ])
    #expect(
      try Self.operations("sqlite", "append_insight", #"{"insight": "x"}"#, context: dev) == [
        "sqlite.memo memo:dev"
      ])
  }

  @Test func sqliteWithoutTheContextIsDenied() throws {
    let path = try Self.sqliteSchema()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let query = #"{"query": "INSERT INTO log VALUES (1)"}"#
    #expect(throws: SQLManifestDenial.self) {
      try Self.operations("sqlite", "write_query", query, context: [:])
    }
    #expect(throws: SQLManifestDenial.self) {
      try Self.operations("sqlite", "write_query", query, context: ["db_path": path])
    }
    #expect(throws: SQLManifestDenial.self) {
      try Self.operations("sqlite", "write_query", query, context: ["db": "dev"])
    }
    // A schema file that does not exist gives no scope (nothing is created).
    let missing = path + ".missing"
    #expect(throws: SQLManifestDenial.self) {
      try Self.operations("sqlite", "write_query", query, context: ["db": "dev", "db_path": missing])
    }
    #expect(!FileManager.default.fileExists(atPath: missing))
  }

  // MARK: - postgres-mcp

  @Test func postgresDeclaresEveryToolOfTheServer() throws {
    let postgres = try #require(BuiltinManifests.builtin(named: "postgres-mcp"))
    #expect(postgres.server == "postgres")
    // postgres-mcp 0.3.0's tools/list, the same in both access modes (the e2e suite checks it live).
    #expect(
      Set(postgres.tools.keys)
        == [
          "list_schemas", "list_objects", "get_object_details", "explain_query", "analyze_workload_indexes",
          "analyze_query_indexes", "analyze_db_health", "get_top_queries", "execute_sql",
        ])
    #expect(postgres.tools["execute_sql"]?.sql?.dialect == .postgres)
    #expect(postgres.tools["explain_query"]?.sql?.dialect == .postgres)
  }

  @Test func postgresOperations() throws {
    let prod = ["db": "production"]
    func execute(_ sql: String) throws -> [Operation] {
      try Self.operations(
        "postgres", "execute_sql", json: .object([JSON.Member("sql", .string(sql))]), context: prod)
    }
    #expect(
      try execute("SELECT * FROM contacts") == ["postgres.read db:production table:production/contacts"])
    #expect(
      try execute("DELETE FROM public.contacts") == [
        "postgres.delete db:production table:production/public.contacts [destructive]"
      ])
    #expect(
      try execute("TRUNCATE contacts") == [
        "postgres.delete db:production table:production/contacts [destructive]"
      ])
    #expect(
      try execute("WITH gone AS (DELETE FROM contacts RETURNING id) SELECT count(*) FROM gone").contains(
        "postgres.delete db:production table:production/contacts [destructive]"))
    #expect(
      try execute("INSERT INTO contacts VALUES (1); DROP TABLE \"Contacts\"").contains(
        "postgres.drop db:production table:production/Contacts [destructive]"))
    #expect(throws: SQLManifestDenial.self) { try execute("COPY contacts TO PROGRAM 'sh -c id'") }
    #expect(throws: SQLManifestDenial.self) { try execute("DO $$ BEGIN DELETE FROM contacts; END $$") }
    #expect(throws: SQLManifestDenial.self) { try execute("SELECT pg_read_file('/etc/passwd')") }

    // explain_query is decided as its SQL when run (the server runs it with `analyze: true`).
    #expect(
      try Self.operations(
        "postgres", "explain_query", #"{"sql": "DELETE FROM contacts", "analyze": true}"#, context: prod) == [
          "postgres.delete db:production table:production/contacts [destructive]"
        ])
    #expect(
      try Self.operations(
        "postgres", "explain_query",
        #"{"sql": "SELECT * FROM orders", "hypothetical_indexes": [{"table": "orders", "columns": ["a"]}, {"table": "x", "columns": ["b"]}]}"#,
        context: prod) == [
          "postgres.read db:production table:production/orders table:production/orders table:production/x"
        ])

    // The catalog tools.
    #expect(
      try Self.operations(
        "postgres", "get_object_details", #"{"schema_name": "public", "object_name": "contacts"}"#,
        context: prod)
        == ["postgres.read db:production table:production/public.contacts"])
    #expect(
      try Self.operations("postgres", "list_objects", #"{"schema_name": "public"}"#, context: prod) == [
        "postgres.read db:production table:production/public.*"
      ])
    #expect(
      try Self.operations("postgres", "list_schemas", "{}", context: prod) == [
        "postgres.read db:production table:production/information_schema.schemata"
      ])

    // The advisors: the LLM method sends the queries away; the SQL in `queries` is unclassified.
    #expect(
      try Self.operations("postgres", "analyze_workload_indexes", "{}", context: prod) == [
        "postgres.advise db:production"
      ])
    #expect(
      try Self.operations("postgres", "analyze_workload_indexes", #"{"method": "dta"}"#, context: prod) == [
        "postgres.advise db:production"
      ])
    #expect(
      try Self.operations("postgres", "analyze_workload_indexes", #"{"method": "llm"}"#, context: prod) == [
        "postgres.advise-llm db:production [destructive]"
      ])
    #expect(
      try Self.operations("postgres", "analyze_query_indexes", #"{"queries": ["select 1"]}"#, context: prod)
        == [
          "postgres.advise-sql db:production [destructive]"
        ])
    #expect(
      try Self.operations(
        "postgres", "analyze_query_indexes", #"{"queries": ["select 1"], "method": "llm"}"#, context: prod)
        == [
          "postgres.advise-llm db:production [destructive]"
        ])
    #expect(throws: SQLManifestDenial.self) {
      try Self.operations("postgres", "execute_sql", "{}", context: prod)
    }
    #expect(throws: SQLManifestDenial.self) {
      try Self.operations("postgres", "execute_sql", #"{"sql": "SELECT 1"}"#, context: [:])
    }
  }
}
