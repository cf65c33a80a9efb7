/// Glob patterns for actions and resources: `*` matches within one segment (it never crosses the
/// separator), `**` matches across segments, everything else matches itself, case-sensitively.
///
/// Actions use `.` as the separator (`git.*` covers `git.read`, not `git.remote.push`; `git.**`
/// covers both); resources use `/` (`file:/srv/*` covers `file:/srv/a`, `file:/srv/**` also
/// `file:/srv/a/b`).
public struct Glob: Sendable, Equatable, Hashable, CustomStringConvertible {
  public let pattern: String
  public let separator: Character
  private let tokens: [Token]

  enum Token: Sendable, Equatable, Hashable {
    case literal(Character)
    case star
    case doubleStar
  }

  public init(_ pattern: String, separator: Character) {
    self.pattern = pattern
    self.separator = separator
    var tokens: [Token] = []
    var characters = pattern[...]
    while let first = characters.first {
      if first == "*" {
        if characters.dropFirst().first == "*" {
          // Any run of stars with two or more is one `**`.
          characters = characters.drop(while: { $0 == "*" })
          tokens.append(.doubleStar)
        } else {
          characters = characters.dropFirst()
          tokens.append(.star)
        }
      } else {
        tokens.append(.literal(first))
        characters = characters.dropFirst()
      }
    }
    self.tokens = tokens
  }

  public static func action(_ pattern: String) -> Glob { Glob(pattern, separator: ".") }
  public static func resource(_ pattern: String) -> Glob { Glob(pattern, separator: "/") }
  /// Agent and server names: `*` matches any name.
  public static func name(_ pattern: String) -> Glob { Glob(pattern, separator: "/") }

  public var description: String { pattern }

  /// Whether the pattern has no wildcard.
  public var isLiteral: Bool { !tokens.contains { $0 == .star || $0 == .doubleStar } }

  /// Whether `text` matches the whole pattern.
  public func matches(_ text: String) -> Bool {
    let characters = Array(text)
    // reachable[i]: the pattern prefix consumed so far can match characters[0..<i].
    var reachable = [Bool](repeating: false, count: characters.count + 1)
    reachable[0] = true
    for token in tokens {
      var next = [Bool](repeating: false, count: characters.count + 1)
      switch token {
      case .literal(let expected):
        for index in characters.indices where reachable[index] && characters[index] == expected {
          next[index + 1] = true
        }
      case .star:
        for index in reachable.indices where reachable[index] {
          next[index] = true
          var end = index
          while end < characters.count, characters[end] != separator {
            end += 1
            next[end] = true
          }
        }
      case .doubleStar:
        if let first = reachable.firstIndex(of: true) {
          for index in first...characters.count { next[index] = true }
        }
      }
      reachable = next
      if !reachable.contains(true) { return false }
    }
    return reachable[characters.count]
  }

  /// Whether every text this glob's `narrower` matches is also matched by this glob (sound: a
  /// "true" is always right; a few exotic true cases may be reported false, which only refuses a
  /// narrowing that a simpler pattern would express).
  public func covers(_ narrower: Glob) -> Bool {
    let inner = narrower.tokens
    // reachable[j]: this pattern's prefix consumed so far covers inner[0..<j].
    var reachable = [Bool](repeating: false, count: inner.count + 1)
    reachable[0] = true
    for token in tokens {
      var next = [Bool](repeating: false, count: inner.count + 1)
      switch token {
      case .literal(let expected):
        for index in inner.indices where reachable[index] && inner[index] == .literal(expected) {
          next[index + 1] = true
        }
      case .star:
        // Covers any run of non-separator literals and single stars.
        for index in reachable.indices where reachable[index] {
          next[index] = true
          var end = index
          while end < inner.count {
            if case .literal(let character) = inner[end], character == separator { break }
            if inner[end] == .doubleStar { break }
            end += 1
            next[end] = true
          }
        }
      case .doubleStar:
        if let first = reachable.firstIndex(of: true) {
          for index in first...inner.count { next[index] = true }
        }
      }
      reachable = next
      if !reachable.contains(true) { return false }
    }
    return reachable[inner.count]
  }
}
