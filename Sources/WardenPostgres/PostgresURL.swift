import WardenStore

/// Where a PostgreSQL store is: `postgres://USER@HOST[:PORT]/DATABASE?sslmode=MODE[&schema=NAME]`
/// (`postgresql://` too). The password is never part of it: a URL that carries one is refused with
/// a message saying where the password goes, so it never lands in a shell history, a process list,
/// an agent's configuration or one of warden's messages.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
  /// How the connection is protected (libpq's names, the ones postgres-nio can honor).
  public enum TLSMode: String, Sendable, CaseIterable {
    /// Plain TCP. Only for a server on loopback or a private network the operator trusts.
    case disable
    /// TLS, the server's certificate chain checked against the trust roots but not its name.
    case verifyCA = "verify-ca"
    /// TLS, the certificate chain and the host name both checked.
    case verifyFull = "verify-full"
  }

  public var user: String
  public var host: String
  public var port: Int
  public var database: String
  public var tls: TLSMode
  /// The schema warden's tables live in; nil for the server's default search path (`public`).
  public var schema: String?
  /// A file of PEM trust roots for `verify-ca` / `verify-full` (libpq's `sslrootcert`); nil for the
  /// system's.
  public var rootCertificate: String?

  public init(
    user: String, host: String, port: Int = 5432, database: String, tls: TLSMode, schema: String? = nil,
    rootCertificate: String? = nil
  ) {
    self.user = user
    self.host = host
    self.port = port
    self.database = database
    self.tls = tls
    self.schema = schema
    self.rootCertificate = rootCertificate
  }

  /// Whether `text` names a PostgreSQL store (by its scheme), valid or not.
  public static func isPostgres(_ text: String) -> Bool {
    text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
  }

  /// Parses `text`; the error says what is wrong and never repeats a password it found.
  public static func parse(_ text: String) throws(StoreError) -> PostgresURL {
    let shown = redacted(text)
    guard let schemeEnd = text.firstRange(of: "://"), isPostgres(text) else {
      throw StoreError(.invalid, "\(shown) is not a postgres:// URL")
    }
    var rest = Substring(text[schemeEnd.upperBound...])
    var query = Substring("")
    if let mark = rest.firstIndex(of: "?") {
      query = rest[rest.index(after: mark)...]
      rest = rest[..<mark]
    }
    guard let slash = rest.firstIndex(of: "/") else {
      throw StoreError(
        .invalid, "\(shown) names no database (postgres://USER@HOST:PORT/DATABASE?sslmode=...)")
    }
    let authority = rest[..<slash]
    let database = try decoded(rest[rest.index(after: slash)...], shown)
    guard let at = authority.lastIndex(of: "@") else {
      throw StoreError(.invalid, "\(shown) names no user (postgres://USER@HOST:PORT/DATABASE?sslmode=...)")
    }
    let userInfo = authority[..<at]
    if userInfo.contains(":") {
      throw StoreError(
        .invalid,
        "\(shown) contains a password; remove it from the URL and put it in a file named by"
          + " WARDEN_STORE_PASSWORD_FILE (mode 0600) or in PGPASSWORD")
    }
    let user = try decoded(userInfo, shown)
    var hostPort = authority[authority.index(after: at)...]
    var port = 5432
    if hostPort.hasPrefix("[") {
      guard let close = hostPort.firstIndex(of: "]") else { throw StoreError(.invalid, "\(shown): bad host") }
      let after = hostPort[hostPort.index(after: close)...]
      if after.hasPrefix(":") { port = try parsePort(after.dropFirst(), shown) }
      hostPort = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
    } else if let colon = hostPort.lastIndex(of: ":") {
      port = try parsePort(hostPort[hostPort.index(after: colon)...], shown)
      hostPort = hostPort[..<colon]
    }
    let host = String(hostPort)
    guard !user.isEmpty, !host.isEmpty, !database.isEmpty else {
      throw StoreError(.invalid, "\(shown) must name a user, a host and a database")
    }
    var tls: TLSMode?
    var schema: String?
    var rootCertificate: String?
    for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let key = String(parts[0])
      let value = parts.count > 1 ? try decoded(parts[1], shown) : ""
      switch key {
      case "sslmode":
        guard let mode = TLSMode(rawValue: value) else {
          throw StoreError(
            .invalid,
            "\(shown): sslmode '\(value)' is not supported; use verify-full (TLS, certificate and host"
              + " checked), verify-ca (TLS, certificate checked) or disable (plain, loopback only)")
        }
        tls = mode
      case "schema":
        guard isIdentifier(value) else {
          throw StoreError(.invalid, "\(shown): schema must be a lowercase SQL identifier ([a-z_][a-z0-9_]*)")
        }
        schema = value
      case "sslrootcert":
        rootCertificate = value
      case "password":
        throw StoreError(
          .invalid,
          "\(shown) contains a password; remove it from the URL and put it in a file named by"
            + " WARDEN_STORE_PASSWORD_FILE (mode 0600) or in PGPASSWORD")
      default:
        throw StoreError(
          .invalid, "\(shown): unknown parameter '\(key)' (known: sslmode, schema, sslrootcert)")
      }
    }
    guard let tls else {
      throw StoreError(
        .invalid,
        "\(shown) must say how to connect: add ?sslmode=verify-full (TLS, certificate and host checked),"
          + " verify-ca, or disable (plain, for a server on loopback)")
    }
    return PostgresURL(
      user: user, host: host, port: port, database: database, tls: tls, schema: schema,
      rootCertificate: rootCertificate)
  }

  /// The URL as warden shows it; it never holds a password.
  public var description: String {
    var text = "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    text += "?sslmode=\(tls.rawValue)"
    if let schema { text += "&schema=\(schema)" }
    return text
  }

  /// `text` with any password in it replaced by `***`: the user-info part's password
  /// (`user:secret@`) and a `password=` query parameter. For messages about URLs that may not parse.
  public static func redacted(_ text: String) -> String {
    var result = text
    if let schemeEnd = result.firstRange(of: "://") {
      let afterScheme = result[schemeEnd.upperBound...]
      let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
      let authority = result[schemeEnd.upperBound..<authorityEnd]
      if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
        result.replaceSubrange(result.index(after: colon)..<at, with: "***")
      }
    }
    if let mark = result.firstIndex(of: "?") {
      let query = result[result.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false)
      let cleaned = query.map { pair -> String in
        let lowered = pair.lowercased()
        return lowered.hasPrefix("password=") || lowered == "password" ? "password=***" : String(pair)
      }
      result = String(result[...mark]) + cleaned.joined(separator: "&")
    }
    return result
  }

  private static func parsePort(_ text: Substring, _ shown: String) throws(StoreError) -> Int {
    guard let port = Int(text), (1...65535).contains(port) else {
      throw StoreError(.invalid, "\(shown): the port must be a number from 1 to 65535")
    }
    return port
  }

  /// Percent-decodes a URL component.
  private static func decoded(_ text: Substring, _ shown: String) throws(StoreError) -> String {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let byte = iterator.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
        throw StoreError(.invalid, "\(shown) has a bad percent escape")
      }
      bytes.append(high << 4 | low)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  static func isIdentifier(_ text: String) -> Bool {
    guard let first = text.utf8.first, first == UInt8(ascii: "_") || (0x61...0x7A).contains(first),
      text.utf8.count <= 63
    else { return false }
    return text.utf8.allSatisfy {
      $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0)
    }
  }
}
