import Dispatch
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization
import WardenStore

/// A few connections to one PostgreSQL store, for synchronous callers on plain threads.
///
/// Warden's store protocol is synchronous and its callers are threads, not tasks: each call here
/// takes an idle connection (or opens one, up to `capacity`), runs its statements by waiting on
/// postgres-nio's futures, and gives the connection back. A `warden run` uses a handful at once:
/// the tool call being decided, the audit writer, the poller of its holds, a decision in the
/// client's form. A connection that failed (closed by the server, a timeout) is dropped, and the
/// next call opens a new one: so a database that comes back is used again without a restart.
final class PostgresSession: Sendable {
  let url: PostgresURL
  private let configuration: PostgresConnection.Configuration
  private let idle = Mutex<[PostgresConnection]>([])
  private let slots: DispatchSemaphore
  let logger: Logger
  private let nextID = Atomic<Int>(1)

  /// How long a call waits for a free connection, a connection to open, or a statement to finish.
  static let timeout: TimeAmount = .seconds(10)
  static let capacity = 4

  /// Run on every new pooled connection before its first use (the schema check): a database
  /// restored, replaced or migrated while warden runs is checked again when warden reconnects.
  private let check: (@Sendable (Statements) throws(StoreError) -> Void)?

  init(
    url: PostgresURL, password: String?, check: (@Sendable (Statements) throws(StoreError) -> Void)? = nil
  ) throws(StoreError) {
    self.url = url
    self.check = check
    var configuration = PostgresConnection.Configuration(
      host: url.host, port: url.port, username: url.user, password: password, database: url.database,
      tls: try Self.tls(url))
    configuration.options.connectTimeout = .seconds(5)
    var parameters = [("application_name", "warden"), ("lock_timeout", "5s")]
    if let schema = url.schema { parameters.append(("search_path", schema)) }
    configuration.options.additionalStartupParameters = parameters
    self.configuration = configuration
    slots = DispatchSemaphore(value: Self.capacity)
    // postgres-nio's own logging goes nowhere: `warden run`'s standard output is the protocol, and
    // what went wrong reaches the caller as a `StoreError`.
    logger = Logger(label: "warden.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
  }

  deinit {
    close()
  }

  private static func tls(_ url: PostgresURL) throws(StoreError) -> PostgresConnection.Configuration.TLS {
    switch url.tls {
    case .disable:
      return .disable
    case .verifyCA, .verifyFull:
      var tls = TLSConfiguration.makeClientConfiguration()
      tls.certificateVerification = url.tls == .verifyFull ? .fullVerification : .noHostnameVerification
      if let root = url.rootCertificate { tls.trustRoots = .file(root) }
      do {
        return .require(try NIOSSLContext(configuration: tls))
      } catch {
        throw StoreError(
          .cannotOpen, "cannot set up TLS for \(url)", underlying: StoreError.oneLine("\(error)"))
      }
    }
  }

  /// Runs `body` on a connection of its own; `action` names what is done, for errors.
  func withConnection<T>(
    _ action: @autoclosure () -> String, _ body: (Statements) throws(StoreError) -> T
  ) throws(StoreError) -> T {
    guard slots.wait(timeout: .now() + .seconds(10)) == .success else {
      throw StoreError(.locked, "\(action()): every connection to \(url) stayed busy")
    }
    defer { slots.signal() }
    let connection = try takeConnection()
    let statements = Statements(connection: connection, logger: logger, action: action())
    do throws(StoreError) {
      let result = try body(statements)
      giveBack(connection)
      return result
    } catch {
      if statements.broken || connection.isClosed {
        Self.close(connection)
      } else {
        giveBack(connection)
      }
      throw error
    }
  }

  /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
  func transaction<T>(
    _ action: @autoclosure () -> String, _ body: (Statements) throws(StoreError) -> T
  ) throws(StoreError) -> T {
    try withConnection(action()) { (statements: Statements) throws(StoreError) -> T in
      try statements.execute("BEGIN")
      do throws(StoreError) {
        let result = try body(statements)
        try statements.execute("COMMIT")
        return result
      } catch {
        if !statements.broken { try? statements.execute("ROLLBACK") }
        throw error
      }
    }
  }

  private func takeConnection() throws(StoreError) -> PostgresConnection {
    while let connection = idle.withLock({ $0.popLast() }) {
      if !connection.isClosed { return connection }
      Self.close(connection)
    }
    let connection = try openConnection()
    guard let check else { return connection }
    do throws(StoreError) {
      try check(
        Statements(connection: connection, logger: logger, action: "cannot read the schema of \(url)"))
    } catch {
      Self.close(connection)
      throw error
    }
    return connection
  }

  /// A new connection outside the pool (the change token's listener keeps one of its own).
  func openConnection() throws(StoreError) -> PostgresConnection {
    let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    let future = PostgresConnection.connect(
      on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: id, logger: logger)
    do {
      return try Self.wait(future, timeout: .seconds(15))
    } catch {
      throw StoreError.postgres(error, "cannot connect to \(url)")
    }
  }

  private func giveBack(_ connection: PostgresConnection) {
    guard !connection.isClosed else { return }
    idle.withLock { $0.append(connection) }
  }

  /// Waits for `future`, at most `timeout`.
  static func wait<T: Sendable>(_ future: EventLoopFuture<T>, timeout: TimeAmount) throws -> T {
    let promise = future.eventLoop.makePromise(of: T.self)
    let timer = future.eventLoop.scheduleTask(in: timeout) {
      promise.fail(TimedOut())
    }
    future.whenComplete { result in
      timer.cancel()
      promise.completeWith(result)
    }
    return try promise.futureResult.wait()
  }

  struct TimedOut: Error {}

  /// Closes every idle connection (the others close when their call ends and the session is gone).
  func close() {
    let connections = idle.withLock { list in
      defer { list = [] }
      return list
    }
    for connection in connections { Self.close(connection) }
  }

  /// Closes `connection`: postgres-nio requires a connection to be closed before it is released, so
  /// the connection is kept until its close completes, and waited for (briefly) unless this is an
  /// event loop's thread (a last reference dropped there), which must never block.
  static func close(_ connection: PostgresConnection) {
    let closed: EventLoopFuture<Void> = connection.close()
    closed.whenComplete { _ in withExtendedLifetime(connection) {} }
    if MultiThreadedEventLoopGroup.currentEventLoop == nil {
      _ = try? wait(closed, timeout: .seconds(5))
    }
  }
}

/// The statements of one call on one connection.
final class Statements {
  let connection: PostgresConnection
  let logger: Logger
  let action: String
  /// The connection can no longer be trusted (a timeout, a lost connection): it is not reused.
  private(set) var broken = false

  init(connection: PostgresConnection, logger: Logger, action: String) {
    self.connection = connection
    self.logger = logger
    self.action = action
  }

  /// Runs `sql` with `binds`; returns its rows and how many rows it affected.
  @discardableResult
  func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws(StoreError) -> (
    rows: [PostgresRow], affected: Int
  ) {
    do {
      let result = try PostgresSession.wait(
        connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger),
        timeout: PostgresSession.timeout)
      return (result.rows, result.metadata.rows ?? 0)
    } catch let error as PostgresSession.TimedOut {
      _ = error
      broken = true
      throw StoreError(
        .io, "\(action): the database did not answer within \(PostgresSession.timeout.seconds) s")
    } catch {
      if let error = error as? PSQLError, error.code != .server { broken = true }
      throw StoreError.postgres(error, action)
    }
  }

  func execute(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws(StoreError) {
    try query(sql, binds)
  }

  /// Runs `sql` and decodes each row with `decode`.
  func rows<T>(
    _ sql: String, _ binds: PostgresBindings = PostgresBindings(), _ decode: (Cells) throws(StoreError) -> T
  ) throws(StoreError) -> [T] {
    var result: [T] = []
    for row in try query(sql, binds).rows {
      result.append(try decode(Cells(row: row.makeRandomAccess(), action: action)))
    }
    return result
  }

  /// Serializes this transaction with every other that takes the same named lock in this store (its
  /// schema), in every process: released at commit or rollback.
  func lock(_ name: String) throws(StoreError) {
    var binds = PostgresBindings()
    binds.append("warden." + name)
    try execute("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || current_schema(), 0))", binds)
  }
}

/// A row's cells, read by position with their types checked: a value of the wrong type (a database
/// edited by hand, or by a newer warden) is an `.unreadable` error, never a crash.
struct Cells {
  let row: PostgresRandomAccessRow
  let action: String

  func text(_ index: Int) throws(StoreError) -> String {
    guard let value = try optionalText(index) else { throw bad(index) }
    return value
  }

  func optionalText(_ index: Int) throws(StoreError) -> String? {
    do { return try row[index].decode(String?.self) } catch { throw bad(index) }
  }

  func integer(_ index: Int) throws(StoreError) -> Int64 {
    guard let value = try optionalInteger(index) else { throw bad(index) }
    return value
  }

  func optionalInteger(_ index: Int) throws(StoreError) -> Int64? {
    do { return try row[index].decode(Int64?.self) } catch { throw bad(index) }
  }

  private func bad(_ index: Int) -> StoreError {
    StoreError(.unreadable, "\(action): column \(row[index].columnName) holds an unexpected value")
  }
}

extension TimeAmount {
  var seconds: Int64 { nanoseconds / 1_000_000_000 }
}
