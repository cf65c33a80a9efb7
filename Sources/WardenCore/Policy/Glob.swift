import WardenJSON

/// Glob patterns for actions and resources: `*` matches within one segment (it never crosses the
/// separator), `**` matches across segments, everything else matches itself, byte for byte (so
/// case-sensitively).
///
/// Actions use `.` as the separator (`git.*` covers `git.read`, not `git.remote.push`; `git.**`
/// covers both); resources use `/` (`file:/srv/*` covers `file:/srv/a`, `file:/srv/**` also
/// `file:/srv/a/b`, and the tree's root `file:/srv` itself: a forbid on a tree must cover the tree).
/// Agent and server names have no separator: `*` matches any name, `/` included.
///
/// Matching runs on every grant that could apply to every call, so the common shapes (a literal, a
/// prefix followed by `**` or by `*`) take a direct path; other patterns run a small dynamic program.
public struct Glob: Sendable, Equatable, Hashable, CustomStringConvertible {
  public let pattern: String
  public let separator: UInt8
  private let tokens: [Token]
  private let shape: Shape
  /// For a resource pattern ending in `/**`: the length in bytes of the pattern without it, which
  /// the glob also matches (`repo:/srv/prod/**` covers `repo:/srv/prod`); 0 for other patterns.
  /// Kept as plain values, not a nested glob: globs are copied on every decision.
  private let rootLength: Int
  private let rootIsLiteral: Bool

  enum Token: Sendable, Equatable, Hashable {
    case literal(UInt8)
    case star
    case doubleStar
  }

  private enum Shape: Sendable, Equatable, Hashable {
    case literal
    /// A literal prefix then `**`.
    case prefixThenAnything([UInt8])
    /// A literal prefix then `*`.
    case prefixThenSegment([UInt8])
    case general
  }

  public init(_ pattern: String, separator: Character) {
    self.pattern = pattern
    self.separator = separator.asciiValue ?? UInt8(ascii: "/")
    var tokens: [Token] = []
    let bytes = Array(pattern.utf8)
    var index = 0
    while index < bytes.count {
      if bytes[index] == UInt8(ascii: "*") {
        var end = index
        while end < bytes.count, bytes[end] == UInt8(ascii: "*") { end += 1 }
        // Any run of two or more stars is one `**`.
        tokens.append(end - index >= 2 ? .doubleStar : .star)
        index = end
      } else {
        tokens.append(.literal(bytes[index]))
        index += 1
      }
    }
    self.tokens = tokens
    let literalCount = tokens.prefix { if case .literal = $0 { return true } else { return false } }.count
    let prefix = Array(bytes.prefix(literalCount))
    if literalCount == tokens.count {
      shape = .literal
    } else if literalCount == tokens.count - 1, tokens.last == .doubleStar {
      shape = .prefixThenAnything(prefix)
    } else if literalCount == tokens.count - 1, tokens.last == .star {
      shape = .prefixThenSegment(prefix)
    } else {
      shape = .general
    }
    if self.separator == UInt8(ascii: "/"), tokens.count > 2, tokens[tokens.count - 1] == .doubleStar,
      tokens[tokens.count - 2] == .literal(self.separator)
    {
      let stars = bytes.reversed().prefix { $0 == UInt8(ascii: "*") }.count
      rootLength = bytes.count - stars - 1
      rootIsLiteral = !bytes.prefix(rootLength).contains(UInt8(ascii: "*"))
    } else {
      rootLength = 0
      rootIsLiteral = false
    }
  }

  /// The tree's root of a pattern ending in `/**`, as a glob of its own.
  private var root: Glob? {
    rootLength > 0
      ? Glob(String(decoding: pattern.utf8.prefix(rootLength), as: UTF8.self), separator: "/") : nil
  }

  public static func action(_ pattern: String) -> Glob { Glob(pattern, separator: ".") }
  public static func resource(_ pattern: String) -> Glob { Glob(pattern, separator: "/") }
  /// Agent and server names: `*` matches any name (NUL, the separator, never occurs in one).
  public static func name(_ pattern: String) -> Glob { Glob(pattern, separator: "\u{0}") }

  public var description: String { pattern }

  /// Whether the pattern has no wildcard.
  public var isLiteral: Bool { shape == .literal }

  /// Whether `text` matches the whole pattern, byte for byte.
  public func matches(_ text: String) -> Bool {
    if matchesTokens(text) { return true }
    guard rootLength > 0 else { return false }
    if rootIsLiteral {
      return text.utf8.count == rootLength && text.utf8.starts(with: pattern.utf8.prefix(rootLength))
    }
    return root?.matches(text) ?? false
  }

  private func matchesTokens(_ text: String) -> Bool {
    switch shape {
    case .literal:
      return text.hasSameBytes(as: pattern)
    case .prefixThenAnything(let prefix):
      return text.utf8.starts(with: prefix)
    case .prefixThenSegment(let prefix):
      let utf8 = text.utf8
      guard utf8.starts(with: prefix) else { return false }
      return !utf8.dropFirst(prefix.count).contains(separator)
    case .general:
      var text = text
      return text.withUTF8 { matchesGeneral($0) }
    }
  }

  private func matchesGeneral(_ characters: UnsafeBufferPointer<UInt8>) -> Bool {
    // reachable[i]: the pattern prefix consumed so far can match characters[0..<i].
    var reachable = [Bool](repeating: false, count: characters.count + 1)
    var next = reachable
    reachable[0] = true
    for token in tokens {
      for index in next.indices { next[index] = false }
      switch token {
      case .literal(let expected):
        for index in 0..<characters.count where reachable[index] && characters[index] == expected {
          next[index + 1] = true
        }
      case .star:
        var index = 0
        while index <= characters.count {
          if reachable[index] {
            next[index] = true
            var end = index
            while end < characters.count, characters[end] != separator {
              end += 1
              next[end] = true
            }
            index = end + 1
          } else {
            index += 1
          }
        }
      case .doubleStar:
        if let first = reachable.firstIndex(of: true) {
          for index in first...characters.count { next[index] = true }
        }
      }
      swap(&reachable, &next)
      if !reachable.contains(true) { return false }
    }
    return reachable[characters.count]
  }

  /// Whether every text this glob's `narrower` matches is also matched by this glob (sound: a
  /// "true" is always right; a few exotic true cases may be reported false, which only refuses a
  /// narrowing that a simpler pattern would express).
  public func covers(_ narrower: Glob) -> Bool {
    // The narrower glob's tree root must be covered too.
    if let narrowerRoot = narrower.root,
      !(narrowerRoot.isLiteral
        ? matches(narrowerRoot.pattern)
        : covers(narrowerRoot) || root?.covers(narrowerRoot) == true)
    {
      return false
    }
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
            if inner[end] == .literal(separator) || inner[end] == .doubleStar { break }
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
