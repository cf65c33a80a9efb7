import WardenCore

/// Classifies SQL text with the dialect's own parser: SQLite's (prepare and the authorizer
/// callback) or PostgreSQL's (libpg_query's parse tree).
///
/// Safe to call from several threads at once: every SQLite classification opens a private
/// in-memory database of its own, and libpg_query keeps its state per thread.
public struct SQLClassifier: SQLClassifying {
  public init() {}

  /// Returns the operations of every statement in `text`. `schema` is, for SQLite, the path of the
  /// database file to read the schema from (read-only, never created; a missing file throws);
  /// without it, a name the text uses is taken to be a table (or column, view, ...) that exists.
  /// PostgreSQL ignores it.
  public func operations(in text: String, dialect: SQLDialect, schema: String? = nil)
    throws(SQLClassificationError) -> [SQLOperation]
  {
    do throws(SQLClassificationError) {
      switch dialect {
      case .sqlite: return try SQLiteClassifier.operations(in: text, schema: schema)
      case .postgres: return try PostgresClassifier.operations(in: text)
      }
    } catch {
      throw SQLClassificationError(Self.oneLine(error.message))
    }
  }

  /// The message with control characters written as escapes: it quotes names from the text, and a
  /// message is one line.
  static func oneLine(_ message: String) -> String {
    guard message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
      return message
    }
    var result = ""
    for scalar in message.unicodeScalars {
      switch scalar.value {
      case 0x0A: result += "\\n"
      case 0x09: result += "\\t"
      case 0x0D: result += "\\r"
      case 0..<0x20, 0x7F:
        let hex = String(scalar.value, radix: 16)
        result += "\\u{" + hex + "}"
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result
  }
}
