/// Command lines from agents' configurations carry secrets now and then (`--api-key KEY`,
/// `postgresql://user:password@host/db`); doctor repeats command lines in its fixes, so it shows
/// such values as `***`. A heuristic: a false positive costs a fix the human edits by hand.
enum SecretRedaction {
  static let hidden = "***"

  /// Words in an option's name that say its value is a secret.
  static let secretWords = [
    "token", "secret", "password", "passwd", "apikey", "api-key", "api_key", "auth", "credential", "key",
  ]

  /// `arguments` with secret values replaced.
  static func commandLine(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var hideNext = false
    for argument in arguments {
      if hideNext {
        result.append(hidden)
        hideNext = false
        continue
      }
      if argument.hasPrefix("-"), let equals = argument.firstIndex(of: "=") {
        let name = argument[..<equals]
        result.append(isSecret(name) ? name + "=" + hidden : withoutPassword(argument))
        continue
      }
      if argument.hasPrefix("-"), isSecret(Substring(argument)) { hideNext = true }
      result.append(withoutPassword(argument))
    }
    return result
  }

  private static func isSecret(_ name: Substring) -> Bool {
    let lowered = name.lowercased()
    return secretWords.contains { lowered.contains($0) }
  }

  /// A URL's password (`scheme://user:PASSWORD@host`) replaced.
  static func withoutPassword(_ text: String) -> String {
    guard let scheme = text.firstRange(of: "://") else { return text }
    let rest = text[scheme.upperBound...]
    guard let at = rest.firstIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":"),
      !rest[..<at].contains("/")
    else { return text }
    return String(text[..<rest.index(after: colon)]) + hidden + String(rest[at...])
  }
}
