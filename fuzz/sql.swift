// libFuzzer target: the SQL classifier (Sources/WardenSQL, with WardenCore/Policy/SQLOperation.swift
// and WardenJSON), through SQLite's parser and libpg_query.
//
// Input: byte 0 chooses the dialect (even: SQLite, odd: PostgreSQL); the rest is the SQL text
// (invalid UTF-8 replaced, as a String would hold it). No schema file.
//
// Checked:
// - classifying never crashes, and either throws a one-line message or returns operations;
// - the operations are deduplicated, each kind is one of the vocabulary, a table is never empty;
// - statement indices start at 0, never decrease and skip none (every statement yields an
//   operation), and there are no more statements than `;` in the text plus one;
// - SQLite table names hold no ASCII uppercase (its names compare case-insensitively);
// - classification is deterministic: the same text again gives the same answer;
// - comments change nothing: the text with a block comment right before it and a line comment on
//   a line after it classifies the same, or fails the same way (except a SQLite text ending in
//   `/*`, which SQLite reads as two tokens there and as a comment once anything follows).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let dialect: SQLDialect = data[0] & 1 == 0 ? .sqlite : .postgres
  let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
  let classifier = SQLClassifier()

  func classify(_ text: String) -> Result<[SQLOperation], SQLClassificationError> {
    do throws(SQLClassificationError) {
      return .success(try classifier.operations(in: text, dialect: dialect, schema: nil))
    } catch {
      return .failure(error)
    }
  }

  let first = classify(text)
  switch first {
  case .failure(let error):
    check(!error.message.isEmpty, "an empty message", text)
    check(
      !error.message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F },
      "a control character in '\(error.message)'", text)
  case .success(let operations):
    check(!operations.isEmpty, "no operations and no error", text)
    check(Set(operations).count == operations.count, "duplicates in \(operations)", text)
    var expected = 0
    for operation in operations {
      check(
        SQLOperation.kinds.contains(operation.kind), "kind '\(operation.kind)' outside the vocabulary", text)
      check(operation.table.map { !$0.isEmpty } ?? true, "an empty table name", text)
      if dialect == .sqlite, let table = operation.table {
        check(!table.utf8.contains(where: { (0x41...0x5A).contains($0) }), "uppercase in '\(table)'", text)
      }
      if operation.statement == expected + 1 { expected += 1 }
      check(operation.statement == expected, "statement index \(operation.statement) after \(expected)", text)
    }
    let semicolons = text.utf8.filter { $0 == 0x3B }.count
    check(expected <= semicolons, "\(expected + 1) statements but \(semicolons) ';'", text)
  }

  let again = classify(text)
  check(
    describe(again) == describe(first), "not deterministic: \(describe(first)) then \(describe(again))", text)

  // No whitespace after the block comment: SQLite lexes a vertical tab as whitespace only inside a
  // run of whitespace that begins with another character, so a leading "\n" would turn an
  // unrecognized token into a valid text.
  // SQLite lexes a `/*` that ends the text as `/` and `*`, not as a comment: anything after it
  // (our line comment) turns it into one, so such a text is left out of this check.
  if dialect == .sqlite, text.hasSuffix("/*") { return 0 }
  let commented = classify("/* warden */" + text + "\n-- warden")
  switch (first, commented) {
  case (.success(let operations), .success(let other)):
    check(operations == other, "a comment changed \(operations) into \(other)", text)
  case (.failure, .failure): break
  default:
    check(false, "a comment changed \(describe(first)) into \(describe(commented))", text)
  }
  return 0
}

func describe(_ result: Result<[SQLOperation], SQLClassificationError>) -> String {
  switch result {
  case .success(let operations): return operations.map(\.description).joined(separator: ", ")
  case .failure(let error): return "error: " + error.message
  }
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, _ text: String) {
  if !condition {
    fatalError("sql invariant: \(message())\n    input: \(String(reflecting: text))")
  }
}
