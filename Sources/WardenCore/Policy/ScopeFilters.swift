/// The template filters. Each one either produces the canonical form a grant can be written against,
/// or refuses: an input two readers could understand differently is an error, never a guess.
public enum ScopeFilters {
  /// An absolute, normalized path. Relative paths are joined to `base` (refused without one); `~`
  /// paths and, unless `literal`, shell or environment expansion syntax (`$VAR`, `${VAR}`, `%VAR%`)
  /// are refused, since a server may expand them into a path warden never saw; NUL is refused.
  ///
  /// Without `resolve`, the path is normalized lexically: `.` and empty components dropped, `..`
  /// removes the component before it (never above `/`), no trailing slash. With `resolve`, the
  /// joined path is handed to it to follow symbolic links as the file system would (nil: it cannot
  /// be resolved, and the call is refused). Bytes throughout: `/` is the byte 0x2F, whatever follows.
  public static func normalizedPath(
    _ path: String, base: String?, literal: Bool = false, resolve: PathResolver? = nil
  ) throws(ScopeFilterError) -> String {
    let bytes = Array(path.utf8)
    guard !bytes.isEmpty else { throw ScopeFilterError("empty path") }
    guard !bytes.contains(0) else { throw ScopeFilterError("path contains a NUL character") }
    guard bytes.first != UInt8(ascii: "~") else {
      throw ScopeFilterError(
        "path '\(path)' starts with '~', which the server may expand; use an absolute path")
    }
    var full = bytes
    if bytes.first != UInt8(ascii: "/") {
      guard let base, base.utf8.first == UInt8(ascii: "/") else {
        throw ScopeFilterError("relative path '\(path)' and the manifest declares no base directory")
      }
      full = Array(base.utf8) + [UInt8(ascii: "/")] + bytes
    }
    // On the joined path: a base ending in `%A` and a name starting `B%` make `%A/B%` together.
    if !literal, let syntax = expansionSyntax(in: full) {
      throw ScopeFilterError(
        "path '\(path)' holds '\(syntax)', which the server may expand into another path; warden decides only on paths it can read as they are (a manifest can declare a tool that takes them literally: literal_paths: true)"
      )
    }

    if let resolve {
      guard let resolved = resolve(String(decoding: full, as: UTF8.self)) else {
        throw ScopeFilterError("path '\(path)' cannot be resolved (a symbolic link loop, or unreadable)")
      }
      return resolved
    }
    return lexicallyNormalized(full)
  }

  /// `.`, `..` and empty components resolved on the bytes of an absolute path.
  public static func lexicallyNormalized(_ bytes: [UInt8]) -> String {
    var components: [ArraySlice<UInt8>] = []
    for component in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
      if component.elementsEqual([UInt8(ascii: ".")]) { continue }
      if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
        if !components.isEmpty { components.removeLast() }
        continue
      }
      components.append(component)
    }
    var out: [UInt8] = []
    for component in components {
      out.append(UInt8(ascii: "/"))
      out += component
    }
    return out.isEmpty ? "/" : String(decoding: out, as: UTF8.self)
  }

  /// The first expansion a shell, GitPython, Python's `os.path.expandvars` or Windows would
  /// perform: `$` in any form, or `%NAME%`.
  static func expansionSyntax(in bytes: [UInt8]) -> String? {
    if let dollar = bytes.firstIndex(of: UInt8(ascii: "$")) {
      return bytes[dollar...].starts(with: Array("${".utf8)) ? "${" : "$"
    }
    var index = 0
    while let open = bytes[index...].firstIndex(of: UInt8(ascii: "%")) {
      guard let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "%")) else { break }
      if close > open + 1 { return "%" + String(decoding: bytes[(open + 1)..<close], as: UTF8.self) + "%" }
      index = close + 1
    }
    return nil
  }

  /// The host of an absolute URL, lowercased, without a trailing dot. Refuses URLs whose authority a
  /// browser and a strict parser would read differently (backslashes, whitespace, percent-encoding,
  /// control characters).
  public static func host(ofURL url: String) throws(ScopeFilterError) -> String {
    let characters = Array(url)
    guard let colon = characters.firstIndex(of: ":"), colon + 2 < characters.count,
      characters[colon + 1] == "/", characters[colon + 2] == "/"
    else { throw ScopeFilterError("'\(url)' is not an absolute URL") }
    let scheme = characters[..<colon]
    guard let first = scheme.first, first.isLetter, scheme.allSatisfy(isSchemeCharacter) else {
      throw ScopeFilterError("'\(url)' has no valid scheme")
    }
    let authority = Substring(
      String(characters[(colon + 3)...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }))
    guard !authority.contains(where: isAmbiguousInAuthority) else {
      throw ScopeFilterError("the host part of '\(url)' is ambiguous")
    }
    var host = authority
    if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
    if host.hasPrefix("[") {
      guard let close = host.firstIndex(of: "]") else {
        throw ScopeFilterError("'\(url)' has an unclosed IPv6 host")
      }
      host = host[...close]
    } else if let colon = host.lastIndex(of: ":") {
      host = host[..<colon]
    }
    guard host.utf8.allSatisfy({ $0 < 0x80 }) else {
      throw ScopeFilterError(
        "the host of '\(url)' is not ASCII; write an internationalized name in its ASCII (xn--) form")
    }
    var result = asciiLowercased(String(host))
    while result.hasSuffix(".") { result.removeLast() }
    guard !result.isEmpty else { throw ScopeFilterError("'\(url)' has no host") }
    return result
  }

  private static func isSchemeCharacter(_ character: Character) -> Bool {
    character.isLetter || character.isNumber || character == "+" || character == "-" || character == "."
  }

  private static func isAmbiguousInAuthority(_ character: Character) -> Bool {
    if character == "\\" || character == "%" || character.isWhitespace { return true }
    guard let ascii = character.asciiValue else { return false }
    return ascii < 0x20 || ascii == 0x7F
  }

  /// The domain of one e-mail address (`ann@example.com` or `Ann <ann@example.com>`), lowercased,
  /// without a trailing dot. Anything that could name more than one recipient, or whose domain
  /// readers could disagree on (several `@`, quotes, separators, spaces), is refused: a grant for
  /// one domain must never let mail go to another.
  public static func domain(ofAddress address: String) throws(ScopeFilterError) -> String {
    var text = Substring(address.trimmingCharacters())
    if let open = text.firstIndex(of: "<"), text.hasSuffix(">") {
      // The display name may not hide an address or a second recipient.
      guard !text[..<open].contains(where: { "@,;<>".contains($0) }) else {
        throw ScopeFilterError("'\(address)' is not exactly one e-mail address")
      }
      text = text[text.index(after: open)..<text.index(before: text.endIndex)]
    }
    let forbidden: Set<Character> = [",", ";", "<", ">", "\"", "(", ")", "[", "]", "\\", ":"]
    guard
      !text.contains(where: {
        forbidden.contains($0) || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true
      })
    else { throw ScopeFilterError("'\(address)' is not exactly one e-mail address") }
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty else {
      throw ScopeFilterError("'\(address)' is not exactly one e-mail address")
    }
    guard parts[1].utf8.allSatisfy({ $0 < 0x80 }) else {
      throw ScopeFilterError(
        "the domain of '\(address)' is not ASCII; write an internationalized name in its ASCII (xn--) form")
    }
    var domain = asciiLowercased(String(parts[1]))
    while domain.hasSuffix(".") { domain.removeLast() }
    guard !domain.isEmpty else { throw ScopeFilterError("'\(address)' has no domain") }
    return domain
  }
}

extension ScopeFilters {
  /// `A`-`Z` to `a`-`z`, every other byte unchanged: Unicode case mapping would fold distinct names
  /// into one (`K`, the Kelvin sign, lowercases to `k`).
  public static func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self)
  }
}

/// Resolves an absolute path as the file system would, following symbolic links on its longest
/// existing prefix; nil when it cannot (a loop). Supplied by the edge: the core does no I/O.
public typealias PathResolver = @Sendable (String) -> String?

/// Why a filter refused its input.
public struct ScopeFilterError: Error, Sendable, Equatable {
  public var message: String

  public init(_ message: String) {
    self.message = message
  }
}
