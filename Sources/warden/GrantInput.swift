import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Checks what people type for grants and forbids; every message names the option.
enum GrantInput {
  static func actions(_ values: [String], option: String) throws -> [String] {
    let actions = values.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters() } }.filter {
      !$0.isEmpty
    }
    guard !actions.isEmpty else {
      throw CommandFailure("warden: \(option) needs at least one action, such as git.read")
    }
    for action in actions {
      let segments = action.split(separator: ".", omittingEmptySubsequences: false)
      let valid = segments.allSatisfy { segment in
        !segment.isEmpty
          && segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-*".contains($0)) }
      }
      guard valid else {
        throw CommandFailure(
          "warden: \(option): '\(action)' is not an action (dotted names such as git.read, with * or **)")
      }
    }
    return actions
  }

  static func resources(_ values: [String]) throws -> [String] {
    for value in values where value.isEmpty || value.contains(where: { $0.isNewline || $0 == "\u{0}" }) {
      throw CommandFailure("warden: --on: '\(value)' is not a resource pattern")
    }
    return values
  }

  static func name(_ value: String, option: String) throws -> String {
    guard !value.isEmpty, !value.contains(where: { $0.isWhitespace || $0 == "\u{0}" }) else {
      throw CommandFailure("warden: \(option): '\(value)' is not a name")
    }
    return value
  }

  static func purpose(_ value: String) throws -> String {
    let trimmed = value.trimmingCharacters()
    guard !trimmed.isEmpty else { throw CommandFailure("warden: --purpose must say why") }
    return trimmed
  }

  static func expiry(duration: String?, until: String?, now: Int64, defaultMilliseconds: Int64?) throws
    -> Int64?
  {
    switch (duration, until) {
    case (.some, .some):
      throw CommandFailure("warden: give --for or --until, not both")
    case (let duration?, nil):
      guard let milliseconds = Durations.parse(duration) else {
        throw CommandFailure(
          "warden: --for '\(duration)' is not a duration of at most 100 years (examples: 90s, 30m, 8h, 2d, 1h30m)"
        )
      }
      return now + milliseconds
    case (nil, let until?):
      guard let instant = Timestamps.parse(until) else {
        throw CommandFailure(
          "warden: --until '\(until)' is not a time (example: 2026-11-24T18:00, UTC unless an offset is given)"
        )
      }
      guard instant > now else { throw CommandFailure("warden: --until \(until) is in the past") }
      return instant
    case (nil, nil):
      return defaultMilliseconds.map { now + $0 }
    }
  }

  static func rateLimit(_ text: String) throws -> RateLimit {
    guard let limit = RateLimit.parse(text) else {
      throw CommandFailure("warden: --max-calls '\(text)' is not N/PERIOD (example: 100/1h)")
    }
    return limit
  }

  /// `g_` or `f_` and 16 random base-32 characters.
  static func newID(prefix: String) -> String {
    let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
    var generator = SystemRandomNumberGenerator()
    return prefix + "_"
      + String((0..<16).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
  }
}

extension String {
  func trimmingCharacters() -> String {
    String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
  }
}
