/// The SQL dialects a classifier understands.
public enum SQLDialect: String, Sendable, CaseIterable {
  case sqlite, postgres
}

/// One operation a SQL text performs: what it does, on which table, in which statement.
///
/// `kind` is one of a fixed vocabulary, lowercase:
///
/// | kind | meaning |
/// |---|---|
/// | `read` | reads rows (`SELECT`, a `WHERE` or `RETURNING` of a write, `COPY ... TO STDOUT`) |
/// | `insert` | adds rows (`INSERT`, `REPLACE`, an upsert, `COPY ... FROM STDIN`) |
/// | `update` | changes rows (`UPDATE`, an upsert's `DO UPDATE`, `MERGE`) |
/// | `delete` | removes rows (`DELETE`, `TRUNCATE`, `INSERT OR REPLACE`, `MERGE`) |
/// | `create` | creates a table, view, index, trigger, sequence, schema, function or type |
/// | `drop` | drops one |
/// | `alter` | changes one (`ALTER`, `RENAME`, `COMMENT ON`, owner or schema changes) |
/// | `attach` | attaches a database file (SQLite) |
/// | `detach` | detaches one (SQLite) |
/// | `pragma` | any `PRAGMA`, reading or setting (SQLite) |
/// | `transaction` | `BEGIN`, `COMMIT`, `ROLLBACK`, savepoints |
/// | `analyze` | gathers statistics |
/// | `reindex` | rebuilds indexes (`REINDEX`, PostgreSQL's `CLUSTER`) |
/// | `vacuum` | compacts the database |
/// | `copy` | PostgreSQL's `COPY` between a table and the client |
/// | `grant` | privileges and roles: `GRANT`, `REVOKE`, roles, row security policies |
/// | `set` | session settings: `SET`, `RESET`, `DISCARD`, `set_config` |
/// | `lock` | PostgreSQL's `LOCK TABLE`: no write, but it can stall every other session |
/// | `write` | writes, or may write, but fits no other kind: a function outside the allowlist, `VACUUM INTO`, `CALL`, `NOTIFY`, `EXECUTE` |
///
/// `table` is the name a grant would use: unquoted, schema-qualified only when the text (or, for
/// SQLite, the database) puts it in another schema than the default, `nil` when the operation touches
/// no table (transaction control, pragmas, `SELECT 1`). Creating or dropping an index, trigger or view
/// names that object.
public struct SQLOperation: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// What the statement does, one of the vocabulary above.
  public var kind: String
  /// The table (or other object) it does it to, if any.
  public var table: String?
  /// The 0-based index of the statement in the text.
  public var statement: Int

  public init(kind: String, table: String? = nil, statement: Int) {
    self.kind = kind
    self.table = table
    self.statement = statement
  }

  /// Every kind an operation can have, in the order of the table above.
  public static let kinds: [String] = [
    "read", "insert", "update", "delete", "create", "drop", "alter", "attach", "detach", "pragma",
    "transaction", "analyze", "reindex", "vacuum", "copy", "grant", "set", "lock", "write",
  ]

  /// `kind`, `kind table`, as in messages and tests: `delete contacts`, `transaction`.
  public var description: String {
    table.map { "\(statement): \(kind) \($0)" } ?? "\(statement): \(kind)"
  }
}

/// Why a SQL text has no classification: it does not parse, it is empty, or it does something no
/// grant should cover (a program, a file, an extension).
public struct SQLClassificationError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String

  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}

/// Classifies SQL text into the operations it performs.
public protocol SQLClassifying: Sendable {
  /// Returns every operation of every statement in `text`, deduplicated, ordered by statement and
  /// then by first appearance. `schema` is, for SQLite, the path of a database file to read the
  /// schema from (read-only); PostgreSQL ignores it. Throws when the text has no statement, does not
  /// parse, or cannot be classified: no scope means deny.
  func operations(in text: String, dialect: SQLDialect, schema: String?) throws(SQLClassificationError)
    -> [SQLOperation]
}

extension Array where Element == SQLOperation {
  /// Drops repeated operations, keeping the first of each, then orders by statement (stable).
  public func deduplicatedInStatementOrder() -> [SQLOperation] {
    var seen = Set<SQLOperation>()
    let unique = filter { seen.insert($0).inserted }
    return unique.enumerated().sorted {
      ($0.element.statement, $0.offset) < ($1.element.statement, $1.offset)
    }
    .map(\.element)
  }
}
