/// The template filters. Each one either produces the canonical form a grant can be written against,
/// or refuses: an input two readers could understand differently is an error, never a guess.
public enum ScopeFilters {
  /// An absolute, lexically normalized path: `.` and empty components dropped, `..` removes the
  /// component before it (never above `/`), no trailing slash. Relative paths are resolved against
  /// `base`; without a base they are refused, as are `~` paths (a server may expand them) and NUL.
  public static func normalizedPath(_ path: String, base: String?) throws(ScopeFilterError) -> String {
    guard !path.isEmpty else { throw ScopeFilterError("empty path") }
    guard !path.contains("\u{0}") else { throw ScopeFilterError("path contains a NUL character") }
    guard !path.hasPrefix("~") else {
      throw ScopeFilterError(
        "path '\(path)' starts with '~', which the server may expand; use an absolute path")
    }
    var full = path
    if !path.hasPrefix("/") {
      guard let base, base.hasPrefix("/") else {
        throw ScopeFilterError("relative path '\(path)' and the manifest declares no base directory")
      }
      full = base + "/" + path
    }
    var components: [Substring] = []
    for component in full.split(separator: "/", omittingEmptySubsequences: true) {
      switch component {
      case ".": continue
      case "..": if !components.isEmpty { components.removeLast() }
      default: components.append(component)
      }
    }
    return "/" + components.joined(separator: "/")
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
    var result = host.lowercased()
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
    var domain = parts[1].lowercased()
    while domain.hasSuffix(".") { domain.removeLast() }
    guard !domain.isEmpty else { throw ScopeFilterError("'\(address)' has no domain") }
    return domain
  }
}

/// Why a filter refused its input.
public struct ScopeFilterError: Error, Sendable, Equatable {
  public var message: String

  public init(_ message: String) {
    self.message = message
  }
}
