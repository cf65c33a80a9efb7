/// The dialect SQL text is written in, which decides the parser that reads it.
public enum SQLDialect: String, Sendable, CaseIterable {
  case sqlite, postgres
}

/// One thing a SQL text does: the kind of operation, the table it touches (if any), and the
/// statement (0-based) it belongs to.
public struct SQLOperation: Sendable, Equatable, Hashable {
  public var kind: String
  public var table: String?
  public var statement: Int

  public init(kind: String, table: String?, statement: Int) {
    self.kind = kind
    self.table = table
    self.statement = statement
  }
}

/// SQL text that could not be classified: the call is denied.
public struct SQLClassificationError: Error, Sendable, Equatable {
  public var message: String

  public init(_ message: String) {
    self.message = message
  }
}

/// Classifies SQL text into operations, with the dialect's own parser (see `WardenSQL`).
public protocol SQLClassifying: Sendable {
  /// The operations `text` performs; `schema` is, for SQLite, a database file to read the schema
  /// from (read-only). Throws when the text cannot be parsed or classified.
  func operations(in text: String, dialect: SQLDialect, schema: String?) throws(SQLClassificationError)
    -> [SQLOperation]
}
