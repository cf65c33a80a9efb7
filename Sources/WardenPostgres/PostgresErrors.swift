import NIOCore
import NIOSSL
import PostgresNIO
import WardenStore

extension StoreError {
  /// Classifies an error from postgres-nio while doing `action` (which names the store by its
  /// redacted URL); a `StoreError` passes through unchanged. The result never carries the password:
  /// it is built from the server's SQLSTATE and message and postgres-nio's error code only, never
  /// from the connection's configuration.
  static func postgres(_ error: any Error, _ action: String) -> StoreError {
    if let error = error as? StoreError { return error }
    if let error = error as? NIOSSLError {
      return StoreError(.cannotOpen, "\(action): the TLS handshake failed", underlying: oneLine("\(error)"))
    }
    if let error = error as? PostgresDecodingError {
      return StoreError(
        .unreadable, "\(action): column \(error.columnName) holds a value of an unexpected type")
    }
    guard let error = error as? PSQLError else {
      return StoreError(.io, action, underlying: oneLine(String(describing: type(of: error))))
    }
    switch error.code {
    case .server:
      return server(error, action)
    case .sslUnsupported:
      return StoreError(
        .cannotOpen, "\(action): the server does not offer TLS, which the URL's sslmode requires")
    case .failedToAddSSLHandler:
      return StoreError(.cannotOpen, "\(action): TLS could not be set up")
    case .authMechanismRequiresPassword:
      return StoreError(
        .cannotOpen,
        "\(action): the server asks for a password; put it in a file named by WARDEN_STORE_PASSWORD_FILE"
          + " (mode 0600) or in PGPASSWORD")
    case .unsupportedAuthMechanism, .saslError:
      return StoreError(.cannotOpen, "\(action): authentication failed (\(error.code))")
    case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed:
      let cause = error.underlying.map { oneLine("\($0)") }
      if let cause, cause.contains("NIOSSL") || cause.contains("handshake") || cause.contains("certificate") {
        return StoreError(.cannotOpen, "\(action): the TLS handshake failed", underlying: cause)
      }
      return StoreError(
        .io, "\(action): the database cannot be reached", underlying: cause ?? "\(error.code)")
    default:
      return StoreError(.io, action, underlying: "\(error.code)")
    }
  }

  /// An error the server sent, by its SQLSTATE (PostgreSQL's appendix "Error Codes").
  private static func server(_ error: PSQLError, _ action: String) -> StoreError {
    let state = error.serverInfo?[.sqlState] ?? ""
    var underlying = oneLine(error.serverInfo?[.message] ?? "")
    if let constraint = error.serverInfo?[.constraintName], !underlying.contains(constraint) {
      underlying += " (\(constraint))"
    }
    underlying += " [\(state)]"
    switch state {
    case "23503":
      return StoreError(.notFound, "\(action): a referenced grant does not exist", underlying: underlying)
    case _ where state.hasPrefix("23"), "P0001", "22P02", "22023":
      // Integrity constraints, the store's own triggers (RAISE), JSON that is not JSON.
      return StoreError(.invalid, "\(action): refused by the store's invariants", underlying: underlying)
    case "55P03", "40P01", "40001", "57014":
      return StoreError(
        .locked, "\(action): the database stayed locked by another writer", underlying: underlying)
    case _ where state.hasPrefix("28"):
      return StoreError(.cannotOpen, "\(action): authentication failed", underlying: underlying)
    case "42501":
      return StoreError(.cannotOpen, "\(action): permission denied", underlying: underlying)
    case "3D000":
      return StoreError(.cannotOpen, "\(action): the database does not exist", underlying: underlying)
    case "42P01", "42703", "3F000":
      return StoreError(
        .unreadable, "\(action): the database lacks warden's schema; run `warden store migrate`",
        underlying: underlying)
    case _ where state.hasPrefix("08"), _ where state.hasPrefix("57P"), "53300":
      return StoreError(.io, "\(action): the database cannot be reached", underlying: underlying)
    default:
      return StoreError(.io, action, underlying: underlying)
    }
  }

  static func oneLine(_ text: String) -> String {
    text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
  }
}
