import WardenStore

/// Which delegation store a command uses: `store:` in `$WARDEN_HOME/config.yaml`, else
/// `WARDEN_STORE`, else the SQLite file in the home. The configuration file wins because it lives
/// in the human's home, which the agent cannot write: `WARDEN_STORE` comes from the environment of
/// `warden run`, which an agent's MCP configuration may set, and pointing its own warden at a store
/// it controls would let it issue itself grants.
public enum StoreSelection: Sendable, Equatable, CustomStringConvertible {
  /// `<home>/warden.db`.
  case sqlite
  case postgres(PostgresURL)

  /// The store chosen, and a line to show when the environment asked for another one.
  public static func choose(configured: String?, environment: [String: String]) throws(StoreError) -> (
    StoreSelection, warning: String?
  ) {
    let fromEnvironment = environment["WARDEN_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    if let configured {
      let selection = try parse(configured, source: "store in config.yaml")
      var warning: String?
      if let fromEnvironment, (try? parse(fromEnvironment, source: "WARDEN_STORE")) != selection {
        warning =
          "WARDEN_STORE (\(PostgresURL.redacted(fromEnvironment))) is ignored: $WARDEN_HOME/config.yaml pins store: \(selection)"
      }
      return (selection, warning)
    }
    guard let fromEnvironment else { return (.sqlite, nil) }
    return (try parse(fromEnvironment, source: "WARDEN_STORE"), nil)
  }

  /// `sqlite` or a `postgres://` URL.
  public static func parse(_ text: String, source: String) throws(StoreError) -> StoreSelection {
    if text == "sqlite" { return .sqlite }
    guard PostgresURL.isPostgres(text) else {
      throw StoreError(
        .invalid,
        "\(source) must be sqlite or postgres://USER@HOST:PORT/DATABASE?sslmode=..., not '\(PostgresURL.redacted(text))'"
      )
    }
    do { return .postgres(try PostgresURL.parse(text)) } catch {
      throw StoreError(error.code, "\(source): \(error.message)", underlying: error.underlying)
    }
  }

  /// Opens the chosen store for a home (created private if needed for SQLite; for PostgreSQL the
  /// home keeps this machine's audit anchor and journals).
  ///
  /// `waitForDatabase` (`warden run`): a PostgreSQL database that cannot be used yet does not fail
  /// the opening; its calls are denied until it can (see `PostgresStore.open`).
  public func open(home: String, environment: [String: String], waitForDatabase: Bool = false)
    throws(StoreError) -> any DelegationStore
  {
    switch self {
    case .sqlite:
      return try GrantStore.open(home: home)
    case .postgres(let url):
      return try PostgresStore.open(
        url: url, password: try PostgresPassword.resolve(environment: environment), home: home,
        waitForDatabase: waitForDatabase)
    }
  }

  public var description: String {
    switch self {
    case .sqlite: "sqlite"
    case .postgres(let url): url.description
    }
  }
}
