/// A configuration file that `warden wrap` or `unwrap` cannot edit; the file is left as it was.
public struct WrapError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem: the command maps each to its exit status.
  public enum Code: Sendable, Equatable {
    /// The bytes are not valid JSON or TOML, or not the shape of the agent's file.
    case malformed
    /// Valid, but written in a way warden does not edit (an inline table, a dotted key, ...).
    case unsupported
  }

  public var code: Code
  /// One line, lowercase, naming the problem (and its line when known).
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }

  /// The 1-based line of `offset` in `bytes`.
  static func line(of offset: Int, in bytes: [UInt8]) -> Int {
    var line = 1
    for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") { line += 1 }
    return line
  }
}
