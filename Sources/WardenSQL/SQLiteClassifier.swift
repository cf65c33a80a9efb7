import GRDBSQLite
import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The SQLite dialect: SQLite's own parser, one prepared statement at a time, with an authorizer
/// callback recording every action the statement would take. No statement is ever stepped.
///
/// The schema: with a database file, its schema (tables, views, indexes, triggers) is read through a
/// read-only connection and recreated in a private in-memory database, so views and triggers report
/// what they really touch. Without one (and for names the file does not have, such as a table an
/// earlier statement of the same text creates), every name the text uses as a table, column, view,
/// index, trigger, schema, function or collation is taken to exist: a stub is created in the private
/// database and the statement prepared again, at most 64 times per statement.
struct SQLiteClassifier {
  static let maximumStubRounds = 64

  static func operations(in text: String, schema: String?) throws(SQLClassificationError) -> [SQLOperation] {
    let connection = try Connection(schema: schema)
    var bytes = Array(text.utf8)
    guard !bytes.contains(0) else { throw SQLClassificationError("sql text holds a nul character") }
    let count = bytes.count
    bytes.append(0)
    var operations: [SQLOperation] = []
    var statementIndex = 0
    var offset = 0
    while offset < count {
      var rounds = 0
      var prepared: (statement: OpaquePointer?, tail: Int, events: [Event])
      while true {
        do throws(SQLClassificationError) {
          prepared = try connection.prepare(bytes, from: offset)
          break
        } catch {
          let statementBytes = bytes[offset..<count]
          guard rounds < maximumStubRounds,
            try connection.addStub(for: error.message, statementText: statementBytes)
          else {
            throw SQLClassificationError(error.message)
          }
          rounds += 1
        }
      }
      // `DROP ... IF EXISTS` of a missing object prepares without a word to the authorizer.
      if let target = SQLiteTokens(bytes[offset..<prepared.tail]).dropIfExists,
        !prepared.events.contains(where: { dropCodes.contains($0.code) }), rounds < maximumStubRounds,
        try connection.addStub(
          for: "no such \(asciiLowercased(target.type)): \(target.name)", statementText: [])
      {
        sqlite3_finalize(prepared.statement)
        prepared = try connection.prepare(bytes, from: offset)
      }
      guard let statement = prepared.statement else {
        // Only whitespace, comments or an empty statement (`;`) up to the tail.
        if prepared.tail <= offset { break }
        offset = prepared.tail
        continue
      }
      let tokens = SQLiteTokens(bytes[offset..<prepared.tail])
      let readOnly = sqlite3_stmt_readonly(statement) != 0
      sqlite3_finalize(statement)
      operations += try classify(
        prepared.events, readOnly: readOnly, tokens: tokens, statement: statementIndex,
        replacingTables: &connection.replacingTables)
      statementIndex += 1
      offset = prepared.tail
    }
    guard statementIndex > 0 else { throw SQLClassificationError("no sql statement in the text") }
    return operations.deduplicatedInStatementOrder()
  }

  // MARK: - Authorizer events to operations

  struct Event {
    var code: Int32
    var first: String?
    var second: String?
    var database: String?
  }

  static let schemaTables: Set<String> = [
    "sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema", "sqlite_sequence",
    "sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4",
  ]

  /// Table-valued functions that only compute.
  static let eponymousTables: Set<String> = ["json_each", "json_tree"]

  /// Whether `name` is one of SQLite's `pragma_*` table-valued functions rather than a table: a
  /// table of that name would have been created by the text (or the schema) with its own definition,
  /// and SQLite resolves a table before a module.
  static func isEponymous(_ name: String) -> Bool {
    pragmaFunctions.contains(String(name.dropFirst("pragma_".count)))
  }

  /// The pragmas SQLite also offers as table-valued functions (those returning rows, without side
  /// effects).
  static let pragmaFunctions: Set<String> = [
    "analysis_limit", "application_id", "auto_vacuum", "automatic_index", "busy_timeout", "cache_size",
    "cache_spill", "cell_size_check", "checkpoint_fullfsync", "collation_list", "compile_options",
    "data_version", "database_list", "defer_foreign_keys", "encoding", "foreign_key_check",
    "foreign_key_list", "foreign_keys", "freelist_count", "fullfsync", "function_list", "hard_heap_limit",
    "ignore_check_constraints", "index_info", "index_list", "index_xinfo", "integrity_check",
    "journal_mode", "journal_size_limit", "legacy_alter_table", "locking_mode", "max_page_count",
    "mmap_size", "module_list", "page_count", "page_size", "pragma_list", "query_only", "quick_check",
    "read_uncommitted", "recursive_triggers", "reverse_unordered_selects", "secure_delete",
    "soft_heap_limit", "synchronous", "table_info", "table_list", "table_xinfo", "temp_store", "threads",
    "trusted_schema", "user_version", "wal_autocheckpoint",
  ]

  /// SQLite's internal functions, which only its own DDL code calls.
  static let internalFunctions: Set<String> = [
    "sqlite_rename_column", "sqlite_rename_table", "sqlite_rename_test", "sqlite_drop_column",
    "sqlite_rename_quotefix",
  ]

  static let dropCodes: Set<Int32> = [
    SQLITE_DROP_INDEX, SQLITE_DROP_TABLE, SQLITE_DROP_TEMP_INDEX, SQLITE_DROP_TEMP_TABLE,
    SQLITE_DROP_TEMP_TRIGGER, SQLITE_DROP_TEMP_VIEW, SQLITE_DROP_TRIGGER, SQLITE_DROP_VIEW,
    SQLITE_DROP_VTABLE,
  ]

  /// The operations of one statement from what the authorizer saw, corrected where it does not see
  /// everything: replaced rows are deleted, a `VACUUM` calls no authorizer, and an `INSERT INTO a
  /// SELECT * FROM b` that SQLite carries out as a copy of b reports no read of b.
  /// `replacingTables` are the tables whose definition replaces rows on conflict (`ON CONFLICT
  /// REPLACE`); a table this statement creates with one is added.
  static func classify(
    _ events: [Event], readOnly: Bool, tokens: SQLiteTokens, statement: Int,
    replacingTables: inout Set<String>
  ) throws(SQLClassificationError) -> [SQLOperation] {
    var operations: [SQLOperation] = []
    var selects = false
    var functions: [String] = []
    var indexed: Set<String> = []
    func add(_ kind: String, _ table: String? = nil) {
      operations.append(SQLOperation(kind: kind, table: table, statement: statement))
    }
    // SQLite writes its schema table itself when it sets up a table-valued function (`json_each`,
    // `pragma_table_info`): a statement of the text never can, since the private database refuses
    // it ("table sqlite_master may not be modified").
    let internalSchemaWrite = events.contains { event in
      [SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE].contains(event.code)
        && schemaTables.contains(asciiLowercased(event.first ?? ""))
        && !["sqlite_sequence", "sqlite_stat1", "sqlite_stat4"].contains(asciiLowercased(event.first ?? ""))
    }
    for event in events {
      let table = tableName(event.first, database: event.database)
      let name = asciiLowercased(event.first ?? "")
      if internalSchemaWrite
        && ["sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"].contains(name)
      {
        continue
      }
      switch event.code {
      case SQLITE_READ where eponymousTables.contains(name) && (event.database ?? "main") == "main":
        break
      case SQLITE_READ
      where name.hasPrefix("pragma_") && (event.database ?? "main") == "main" && isEponymous(name):
        add("pragma")
      case SQLITE_READ: add("read", table)
      case SQLITE_INSERT: add("insert", table)
      case SQLITE_UPDATE: add("update", table)
      case SQLITE_DELETE: add("delete", table)
      case SQLITE_CREATE_INDEX, SQLITE_CREATE_TEMP_INDEX:
        add("create", table)
        if let indexedTable = tableName(event.second, database: event.database) {
          indexed.insert(indexedTable)
        }
      case SQLITE_CREATE_TABLE, SQLITE_CREATE_TEMP_TABLE,
        SQLITE_CREATE_TEMP_TRIGGER, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TRIGGER, SQLITE_CREATE_VIEW,
        SQLITE_CREATE_VTABLE:
        add("create", table)
      case SQLITE_DROP_INDEX, SQLITE_DROP_TABLE, SQLITE_DROP_TEMP_INDEX, SQLITE_DROP_TEMP_TABLE,
        SQLITE_DROP_TEMP_TRIGGER, SQLITE_DROP_TEMP_VIEW, SQLITE_DROP_TRIGGER, SQLITE_DROP_VIEW,
        SQLITE_DROP_VTABLE:
        add("drop", table)
      case SQLITE_ALTER_TABLE: add("alter", tableName(event.second, database: event.first))
      case SQLITE_PRAGMA: add("pragma")
      case SQLITE_TRANSACTION, SQLITE_SAVEPOINT: add("transaction")
      case SQLITE_ATTACH: add("attach")
      case SQLITE_DETACH: add("detach")
      case SQLITE_REINDEX: add("reindex")
      case SQLITE_ANALYZE: add("analyze", table)
      case SQLITE_SELECT: selects = true
      case SQLITE_RECURSIVE: break
      case SQLITE_FUNCTION: functions.append(asciiLowercased(event.second ?? ""))
      default: add("write")
      }
    }
    let definesSchema = operations.contains {
      ["create", "drop", "alter", "analyze", "reindex"].contains($0.kind)
    }
    for function in functions where !(definesSchema && internalFunctions.contains(function)) {
      switch FunctionPolicy.effect(of: function, dialect: .sqlite) {
      case .harmless: break
      case .operation(let kind): add(kind)
      case .refused:
        throw SQLClassificationError("sql calls '\(function)', which reaches outside the database")
      }
    }
    if definesSchema {
      // What SQLite itself does to carry out DDL: rows of sqlite_schema, statistics tables, the rows
      // of a dropped table, the index a CREATE INDEX builds.
      let dropped = Set(operations.filter { $0.kind == "drop" }.compactMap(\.table))
      let creates = operations.contains { $0.kind == "create" }
      operations.removeAll { operation in
        // sqlite_schema and its kin, statistics tables, automatic indexes: no user object is sqlite_*.
        let rowLevel = ["read", "insert", "update", "delete", "create"].contains(operation.kind)
        if rowLevel, let table = operation.table, lastComponent(table).hasPrefix("sqlite_") { return true }
        if operation.kind == "delete", let table = operation.table, dropped.contains(table) { return true }
        // Building an index reads its table.
        if operation.kind == "read", let table = operation.table, indexed.contains(table) { return true }
        return creates && operation.kind == "reindex"
      }
    }
    let replaces = tokens.replacesRows
    if replaces, let created = operations.first(where: { $0.kind == "create" })?.table {
      replacingTables.insert(created)
    }
    for operation in operations where ["insert", "update"].contains(operation.kind) {
      if let table = operation.table, replaces || replacingTables.contains(table) { add("delete", table) }
    }
    if operations.contains(where: { $0.kind == "insert" }),
      !operations.contains(where: { $0.kind == "read" }),
      tokens.contains(keyword: "SELECT"), let source = tokens.lastSource
    {
      add("read", tableName(source.table, database: source.schema))
    }
    let keyword = tokens.leadingKeyword
    if keyword == "VACUUM" {
      add("vacuum")
      // VACUUM INTO writes a copy of the database to a file the text names.
      if tokens.contains(keyword: "INTO") { add("write") }
    } else if keyword == "ANALYZE", !operations.contains(where: { $0.kind == "analyze" }) {
      add("analyze")
    } else if keyword == "REINDEX", !operations.contains(where: { $0.kind == "reindex" }) {
      add("reindex")
    }
    if !readOnly, !operations.contains(where: { $0.kind != "read" }) { add("write") }
    if operations.isEmpty { add(selects || readOnly ? "read" : "write") }
    return operations
  }

  /// A table as a grant names it: lowercased (SQLite compares names case-insensitively, quoted or
  /// not), qualified by its schema unless that is `main`.
  static func tableName(_ name: String?, database: String?) -> String? {
    guard let name, !name.isEmpty else { return nil }
    let database = database.map(asciiLowercased) ?? "main"
    return database == "main" ? asciiLowercased(name) : "\(database).\(asciiLowercased(name))"
  }

  static func lastComponent(_ table: String) -> String {
    table.split(separator: ".").last.map(String.init) ?? table
  }
}
