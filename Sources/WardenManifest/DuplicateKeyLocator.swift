import Yams

/// Finds where a duplicated key occurs again. The YAML parser reports the first occurrence only, while
/// the mistake is the later one; in block style (and in JSON laid out one member per line) the keys of
/// one mapping share a column, which is enough to find it.
enum DuplicateKeyLocator {
  /// The position of the next key `key` in the mapping whose first key `first` was found at, or nil when
  /// the layout does not allow telling (flow style on one line, say).
  static func laterOccurrence(of key: String, after first: Mark, in text: String) -> (line: Int, column: Int)?
  {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard first.line >= 1, first.line < lines.count else { return nil }
    let candidates = [key, "\"\(key)\"", "'\(key)'"]
    for index in first.line..<lines.count {
      let line = Array(lines[index].unicodeScalars)
      let indent = line.prefix { $0 == " " }.count
      if indent == line.count || line[indent] == "#" || line[indent] == "\r" { continue }
      if indent + 1 < first.column { return nil }
      guard indent + 1 == first.column else { continue }
      let rest = String(String.UnicodeScalarView(line[indent...]))
      for candidate in candidates where rest.hasPrefix(candidate) {
        let after = rest.dropFirst(candidate.count).drop { $0 == " " }
        if after.first == ":" { return (index + 1, first.column) }
      }
    }
    return nil
  }
}
