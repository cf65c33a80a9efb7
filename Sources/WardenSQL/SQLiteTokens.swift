/// A small tokenizer for SQLite statement text, for what the authorizer does not report: the keyword
/// a statement starts with (`VACUUM` calls no authorizer), `VACUUM ... INTO`, and the conflict target
/// of an upsert (to give a schema-less stub table the unique index the upsert needs).
///
/// It follows SQLite's lexical rules (`--` and `/* */` comments, `'...'` strings, `"..."`, `[...]`
/// and `` `...` `` identifiers with doubled quotes) but is never the one that decides what a
/// statement does: SQLite's parser has already accepted the text it sees.
struct SQLiteTokens {
  enum Token: Equatable {
    /// A bare word: a keyword or an identifier, as written.
    case word(String)
    /// A quoted identifier, unquoted.
    case identifier(String)
    case string
    case number
    case symbol(UInt8)
  }

  private(set) var tokens: [Token] = []

  init(_ bytes: some Collection<UInt8>) {
    let bytes = Array(bytes)
    var index = 0
    func isWordByte(_ byte: UInt8) -> Bool {
      byte >= 0x80 || byte == 0x5F || byte == 0x24 || (0x30...0x39).contains(byte)
        || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case 0x20, 0x09, 0x0A, 0x0C, 0x0D:
        index += 1
      case 0x2D where index + 1 < bytes.count && bytes[index + 1] == 0x2D:  // --
        while index < bytes.count && bytes[index] != 0x0A { index += 1 }
      case 0x2F where index + 1 < bytes.count && bytes[index + 1] == 0x2A:  // /*
        index += 2
        while index < bytes.count
          && !(bytes[index] == 0x2A && index + 1 < bytes.count && bytes[index + 1] == 0x2F)
        {
          index += 1
        }
        index += 2
      case 0x27, 0x22, 0x60, 0x5B:  // ' " ` [
        let close: UInt8 = byte == 0x5B ? 0x5D : byte
        var content: [UInt8] = []
        index += 1
        while index < bytes.count {
          if bytes[index] == close {
            if close != 0x5D && index + 1 < bytes.count && bytes[index + 1] == close {
              content.append(close)
              index += 2
              continue
            }
            break
          }
          content.append(bytes[index])
          index += 1
        }
        index += 1
        tokens.append(byte == 0x27 ? .string : .identifier(String(decoding: content, as: UTF8.self)))
      case 0x30...0x39:
        while index < bytes.count && (isWordByte(bytes[index]) || bytes[index] == 0x2E) { index += 1 }
        tokens.append(.number)
      case _ where isWordByte(byte):
        let start = index
        while index < bytes.count && isWordByte(bytes[index]) { index += 1 }
        tokens.append(.word(String(decoding: bytes[start..<index], as: UTF8.self)))
      default:
        tokens.append(.symbol(byte))
        index += 1
      }
    }
  }

  /// The first keyword after `EXPLAIN [QUERY PLAN]`, uppercased.
  var leadingKeyword: String? {
    var words = tokens.lazy.compactMap { token -> String? in
      if case .word(let word) = token { return asciiUppercased(word) }
      return nil
    }.makeIterator()
    var word = words.next()
    if word == "EXPLAIN" {
      word = words.next()
      if word == "QUERY" {
        _ = words.next()
        word = words.next()
      }
    }
    return word
  }

  /// Whether the bare word `keyword` appears (case-insensitively) anywhere.
  func contains(keyword: String) -> Bool {
    tokens.contains { token in
      if case .word(let word) = token { return asciiUppercased(word) == keyword }
      return false
    }
  }

  /// The columns of each `ON CONFLICT (a, b)` target that names only plain columns, with the table
  /// the statement inserts into (`[schema, table]` or `[table]`).
  var upsertTargets: (table: [String], columns: [[String]])? {
    guard let into = tokens.firstIndex(where: { isWord($0, "INTO") })
    else { return nil }
    var table: [String] = []
    var index = into + 1
    while index < tokens.count, let name = name(tokens[index]) {
      table.append(name)
      index += 1
      if index < tokens.count, tokens[index] == .symbol(0x2E) { index += 1 } else { break }
    }
    guard !table.isEmpty else { return nil }
    var targets: [[String]] = []
    while index + 2 < tokens.count {
      defer { index += 1 }
      guard isWord(tokens[index], "ON"), isWord(tokens[index + 1], "CONFLICT"),
        tokens[index + 2] == .symbol(0x28)
      else { continue }
      var columns: [String] = []
      var cursor = index + 3
      var plain = true
      while cursor < tokens.count, tokens[cursor] != .symbol(0x29) {
        if let column = name(tokens[cursor]) {
          columns.append(column)
          cursor += 1
          // COLLATE x, ASC, DESC may follow a column.
          while cursor < tokens.count, tokens[cursor] != .symbol(0x2C), tokens[cursor] != .symbol(0x29) {
            if case .word = tokens[cursor] {
              cursor += 1
            } else if case .identifier = tokens[cursor] {
              cursor += 1
            } else {
              plain = false
              break
            }
          }
          if cursor < tokens.count, tokens[cursor] == .symbol(0x2C) { cursor += 1 }
        } else {
          plain = false
        }
        if !plain { break }
      }
      if plain && !columns.isEmpty { targets.append(columns) }
    }
    return (table, targets)
  }

  /// `DROP TABLE|VIEW|INDEX|TRIGGER IF EXISTS [schema.]name`: the object type (uppercased) and the
  /// name, as `schema.name` or `name`.
  var dropIfExists: (type: String, name: String)? {
    guard tokens.count >= 5, isWord(tokens[0], "DROP"), case .word(let type) = tokens[1],
      isWord(tokens[2], "IF"), isWord(tokens[3], "EXISTS"), let first = name(tokens[4])
    else { return nil }
    let upper = asciiUppercased(type)
    guard ["TABLE", "VIEW", "INDEX", "TRIGGER"].contains(upper) else { return nil }
    if tokens.count >= 7, tokens[5] == .symbol(0x2E), let second = name(tokens[6]) {
      return (upper, first + "." + second)
    }
    return (upper, first)
  }

  /// Whether rows may be replaced: `REPLACE INTO`, `INSERT OR REPLACE`, `UPDATE OR REPLACE`, or an
  /// `ON CONFLICT REPLACE` constraint in a table definition.
  var replacesRows: Bool {
    if leadingKeyword == "REPLACE" { return true }
    for index in tokens.indices.dropFirst() where isWord(tokens[index], "REPLACE") {
      let next = index + 1 < tokens.count ? tokens[index + 1] : nil
      if isWord(tokens[index - 1], "OR") && next != .symbol(0x28) { return true }
      if isWord(tokens[index - 1], "CONFLICT") { return true }
    }
    return false
  }

  /// The `[schema.]table` after the last `FROM`, as written: the source of an `INSERT ... SELECT *
  /// FROM t` that SQLite copies without reporting the read.
  var lastSource: (schema: String?, table: String)? {
    guard let from = tokens.lastIndex(where: { isWord($0, "FROM") }), from + 1 < tokens.count,
      let first = name(tokens[from + 1])
    else { return nil }
    if from + 3 < tokens.count, tokens[from + 2] == .symbol(0x2E), let second = name(tokens[from + 3]) {
      return (first, second)
    }
    return (nil, first)
  }

  private func isWord(_ token: Token, _ keyword: String) -> Bool {
    if case .word(let word) = token { return asciiUppercased(word) == keyword }
    return false
  }

  private func name(_ token: Token) -> String? {
    switch token {
    case .word(let word): return word
    case .identifier(let identifier): return identifier
    default: return nil
    }
  }
}

/// `a`-`z` uppercased, every other byte kept: SQL keywords are ASCII.
func asciiUppercased(_ text: String) -> String {
  String(decoding: text.utf8.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }, as: UTF8.self)
}
