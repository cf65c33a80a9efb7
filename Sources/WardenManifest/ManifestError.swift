/// One problem in a manifest file, at a position a person (or an editor) can jump to.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file as it was named to the loader.
  public var file: String
  /// 1-based line; 0 when the problem concerns the whole file (it cannot be read, say).
  public var line: Int
  /// 1-based column, counted in Unicode scalars; 0 together with `line`.
  public var column: Int
  /// What is wrong, lowercase, with the user's own text quoted.
  public var message: String

  /// A problem at `line`:`column` of `file` (both 0 for the whole file).
  public init(file: String, line: Int, column: Int, message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.message = message
  }

  /// `file:line:col: message`, or `file: message` for a problem without a position.
  public var description: String {
    line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
  }
}

/// Every problem found in one manifest file, in the order they appear in it. Never empty.
public struct ManifestErrors: Error, Sendable, Equatable, CustomStringConvertible {
  /// The problems, by position.
  public var errors: [ManifestError]

  /// Wraps the problems of one file.
  public init(_ errors: [ManifestError]) {
    self.errors = errors
  }

  /// One error per line.
  public var description: String {
    errors.map(\.description).joined(separator: "\n")
  }
}
