/// Why the delegation store could not do what was asked. Every failure of the store is one of these:
/// the store fails closed, so a caller never mistakes an error for "no grants".
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of failure; an open set, so new codes do not break callers' switches.
  public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// The home directory or the database file cannot be created or opened (permissions, missing
    /// parent, a file where a directory should be).
    public static let cannotOpen = Code(rawValue: "cannot-open")
    /// The database is corrupt, not an SQLite file, not a warden database, or written by a newer warden.
    public static let unreadable = Code(rawValue: "unreadable")
    /// Another process held the database longer than the busy timeout.
    public static let locked = Code(rawValue: "locked")
    /// A grant id named by the caller does not exist.
    public static let notFound = Code(rawValue: "not-found")
    /// The request or the setup breaks an invariant: duplicate id, a grant the schema refuses, a home
    /// directory other users can reach, an unresolvable home.
    public static let invalid = Code(rawValue: "invalid")
    /// Any other failure of the file system or of SQLite.
    public static let io = Code(rawValue: "io")

    public var description: String { rawValue }
  }

  public var code: Code
  /// One lowercase line saying what failed, naming the file or grant concerned.
  public var message: String
  /// The cause below the store (SQLite's error with the SQL, or the system call's error), if any.
  public var underlying: String?

  public init(_ code: Code, _ message: String, underlying: String? = nil) {
    self.code = code
    self.message = message
    self.underlying = underlying
  }

  /// `message`, then the underlying cause; always one line.
  public var description: String {
    guard let underlying else { return message }
    return "\(message): \(underlying)"
  }
}
