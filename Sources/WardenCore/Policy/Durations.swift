/// Durations as people write them on the command line: `90s`, `30m`, `8h`, `2d`, `1w`, or combined
/// (`1h30m`).
public enum Durations {
  private static let units: [(Character, Int64)] = [
    ("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000),
  ]

  /// The longest duration accepted: 100 years. Longer ones (and instants computed from them) would
  /// overflow, and no delegation should outlive its delegator.
  public static let longest: Int64 = 100 * 365 * 86_400_000

  /// Milliseconds in `text`, or nil when it is not a positive duration of at most `longest`.
  public static func parse(_ text: String) -> Int64? {
    var total: Int64 = 0
    var digits = ""
    var sawUnit = false
    for character in text.lowercased() {
      if character.isASCII, character.isNumber {
        digits.append(character)
      } else if let unit = units.first(where: { $0.0 == character }) {
        guard let value = Int64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit.1)
        guard !overflow else { return nil }
        let (sum, overflowed) = total.addingReportingOverflow(product)
        guard !overflowed else { return nil }
        total = sum
        digits = ""
        sawUnit = true
      } else {
        return nil
      }
    }
    guard digits.isEmpty, sawUnit, total > 0, total <= longest else { return nil }
    return total
  }

  /// The shortest exact text for a duration: `1h30m`, `2d`, `45s`.
  public static func describe(_ milliseconds: Int64) -> String {
    var remaining = milliseconds / 1000
    guard remaining > 0 else { return "\(milliseconds)ms" }
    var text = ""
    for (unit, size) in units {
      let seconds = size / 1000
      if remaining >= seconds {
        text += "\(remaining / seconds)\(unit)"
        remaining %= seconds
      }
    }
    return text
  }
}

/// Instants as milliseconds since the Unix epoch, written and read as UTC ISO 8601, without
/// Foundation (the core does no I/O and needs no locale).
public enum Timestamps {
  /// `2026-11-24T18:30:00Z`.
  public static func format(_ milliseconds: Int64) -> String {
    let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    let (year, month, day) = civil(fromDays: days)
    func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return
      "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60))Z"
  }

  /// Parses `2026-11-24`, `2026-11-24T18:30`, `2026-11-24T18:30:00`, with an optional `Z` or
  /// `+hh:mm` / `-hh:mm` offset (no offset means UTC), or a space instead of `T`.
  public static func parse(_ text: String) -> Int64? {
    let characters = Array(text.trimmingCharacters())
    func number(_ range: Range<Int>) -> Int64? {
      guard range.upperBound <= characters.count else { return nil }
      let slice = characters[range]
      guard slice.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
      return Int64(String(slice))
    }
    guard characters.count >= 10, characters[4] == "-", characters[7] == "-",
      let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
      (1...12).contains(month), (1...31).contains(day)
    else { return nil }
    var seconds: Int64 = 0
    var index = 10
    if index < characters.count, characters[index] == "T" || characters[index] == " " {
      guard let hour = number((index + 1)..<(index + 3)), characters.count > index + 5,
        characters[index + 3] == ":", let minute = number((index + 4)..<(index + 6)), hour < 24, minute < 60
      else { return nil }
      seconds = hour * 3600 + minute * 60
      index += 6
      if index < characters.count, characters[index] == ":" {
        guard let second = number((index + 1)..<(index + 3)), second < 60 else { return nil }
        seconds += second
        index += 3
      }
    }
    if index < characters.count {
      if characters[index] == "Z", index + 1 == characters.count {
        index += 1
      } else if characters[index] == "+" || characters[index] == "-", characters.count == index + 6,
        let hours = number((index + 1)..<(index + 3)), characters[index + 3] == ":",
        let minutes = number((index + 4)..<(index + 6))
      {
        let offset = hours * 3600 + minutes * 60
        seconds -= characters[index] == "+" ? offset : -offset
        index += 6
      } else {
        return nil
      }
    }
    guard index == characters.count else { return nil }
    let days = daysFromCivil(year: year, month: month, day: day)
    guard civil(fromDays: days) == (year, month, day) else { return nil }
    return (days * 86_400 + seconds) * 1000
  }

  // Howard Hinnant's days-from-civil algorithms, proleptic Gregorian calendar.
  static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}

extension String {
  func trimmingCharacters() -> String {
    String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
  }
}
