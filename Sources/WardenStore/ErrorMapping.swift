import GRDB

extension StoreError {
  /// Classifies an error thrown by GRDB or SQLite while doing `action` (e.g. "cannot read grants from
  /// /x/warden.db"); a `StoreError` passes through unchanged.
  static func wrapping(_ error: any Error, _ action: String) -> StoreError {
    if let error = error as? StoreError { return error }
    guard let error = error as? DatabaseError else {
      return StoreError(.io, action, underlying: oneLine("\(error)"))
    }
    let underlying = oneLine(error.description)
    switch error.resultCode {
    case .SQLITE_BUSY, .SQLITE_LOCKED:
      return StoreError(
        .locked, "\(action): the database stayed locked by another process", underlying: underlying)
    case .SQLITE_NOTADB, .SQLITE_CORRUPT:
      return StoreError(
        .unreadable, "\(action): the file is corrupt or not a database", underlying: underlying)
    case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH, .SQLITE_READONLY:
      return StoreError(
        .cannotOpen, "\(action): permission denied or file unavailable", underlying: underlying)
    case .SQLITE_CONSTRAINT:
      if error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
        return StoreError(.notFound, "\(action): a referenced grant does not exist", underlying: underlying)
      }
      return StoreError(.invalid, "\(action): refused by the store's invariants", underlying: underlying)
    default:
      return StoreError(.io, action, underlying: underlying)
    }
  }

  /// Collapses runs of whitespace (the SQL quoted in GRDB's errors spans lines) into single spaces.
  static func oneLine(_ text: String) -> String {
    text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
  }
}

/// Runs `body`, turning anything it throws into a `StoreError` for `action`.
func guarded<T>(_ action: @autoclosure () -> String, _ body: () throws -> T) throws(StoreError) -> T {
  do {
    return try body()
  } catch {
    throw StoreError.wrapping(error, action())
  }
}
