// libFuzzer target: MessageScanner (Sources/WardenJSON), compiled into this module.
//
// The input is one line as the framer hands it out (it may end with the `\r` of a `\r\n`). Checked:
// - `scan` and `peekID` never crash;
// - a `\r` anywhere but last makes the line an `embeddedLineBreak` defect: the grammar has no place
//   for it, so the scan must fail and say why;
// - the scanner agrees with jansson on what is JSON, both ways: jansson accepting the line (any
//   value) means the scanner does not call it `notJSON`; the scanner accepting it means jansson
//   does too, except for jansson's own limits (integers beyond 64 bits, real overflow, lone
//   surrogate escapes, `\u0000` in a key, nesting deeper than 2048), which only make it stricter;
// - for a `.message`, the envelope says what jansson's tree says: kind, id, method, and the
//   `params` / `result` / `error` ranges hold exactly those values;
// - `peekID` on any prefix of a message finds the message's id or nothing, never another id.
// Lines holding a raw NUL skip the jansson comparisons: jansson stops reading at one (see
// DifferentialTests.rawNULIsRejected) while the scanner refuses it.

/// One scanner for every input, as a pump reuses one for every line (its deep-nesting stack
/// carries over).
nonisolated(unsafe) private var scanner = MessageScanner()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let line = UnsafeRawBufferPointer(start: data, count: size)
  let outcome = scanner.scan(line)

  let body = line.last == 0x0D ? UnsafeRawBufferPointer(rebasing: line.dropLast()) : line
  if body.contains(0x0D) {
    guard case .defect(let defect) = outcome, defect.kind == .embeddedLineBreak else {
      fail("a line with an inner \\r scanned as \(outcome)", line)
    }
    return 0
  }
  if line.contains(0) { return 0 }

  let scannerSaysJSON: Bool
  switch outcome {
  case .message: scannerSaysJSON = true
  case .defect(let defect): scannerSaysJSON = defect.kind == .notJSONRPC
  case .blank: scannerSaysJSON = false
  }
  let tree: JSONValue
  do throws(JSONParseError) {
    tree = try JSONValue.parse(line, rejectingDuplicates: false)
  } catch {
    if scannerSaysJSON && !isJanssonLimit(error) {
      fail("scanner accepts as JSON (\(outcome)), jansson refuses: \(error)", line)
    }
    return 0
  }
  guard scannerSaysJSON else { fail("jansson accepts, scanner says \(outcome)", line) }

  if case .message(let envelope) = outcome {
    checkEnvelope(envelope, tree, line)
    for cut in Set([size - 1, size / 2, size / 3, 2 * size / 3]) where cut > 0 {
      if let peeked = MessageScanner.peekID(UnsafeRawBufferPointer(rebasing: line.prefix(cut))),
        peeked != envelope.id
      {
        fail("peekID of the first \(cut) bytes is \(peeked), the message's id is \(String(describing: envelope.id))", line)
      }
    }
  } else {
    _ = MessageScanner.peekID(line)
  }
  return 0
}

/// jansson refusals that are stricter than JSON itself; the scanner leaves these to AmbiguityCheck.
private func isJanssonLimit(_ error: JSONParseError) -> Bool {
  [
    "too big integer", "too big negative integer", "real number overflow", "invalid Unicode",
    "maximum parsing depth reached", "NUL byte in object key not supported",
  ].contains { error.message.hasPrefix($0) }
}

private func checkEnvelope(_ envelope: Envelope, _ tree: JSONValue, _ line: UnsafeRawBufferPointer) {
  func expect(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fail("envelope \(envelope) disagrees with jansson: \(what())", line) }
  }
  expect(tree.kind == .object, "not an object")
  expect(tree["jsonrpc"]?.stringValue == "2.0", "jsonrpc is \(tree["jsonrpc"]?.text() ?? "absent")")
  let method = tree["method"]
  let id = tree["id"]
  switch envelope.kind {
  case .request: expect(method != nil && id != nil && id?.isNull == false, "not a request")
  case .notification: expect(method != nil && id == nil, "not a notification")
  case .response: expect(method == nil && id != nil, "not a response")
  }
  expect(envelope.method == method?.stringValue, "method is \(method?.text() ?? "absent")")
  switch envelope.id {
  case nil: expect(id == nil || id!.isNull, "id is \(id!.text())")
  case .string(let text): expect(id?.stringValue == text, "id is \(id?.text() ?? "absent")")
  case .integer(let value): expect(id?.integerValue == value, "id is \(id?.text() ?? "absent")")
  case .number(let literal):
    expect(id?.doubleValue != nil && id?.doubleValue == Double(literal), "id is \(id?.text() ?? "absent")")
  }
  expect(envelope.isError == (tree["error"] != nil), "isError")
  sameValue(envelope.params, tree["params"], "params")
  sameValue(envelope.payload, tree[envelope.isError ? "error" : "result"], envelope.isError ? "error" : "result")

  /// The bytes the envelope points at parse to the member jansson found.
  func sameValue(_ range: Range<Int>?, _ member: JSONValue?, _ name: String) {
    guard let range else { return expect(member == nil, "\(name) has no range but is present") }
    guard let member else { return expect(false, "\(name) has a range but is absent") }
    let piece = try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: line[range]), rejectingDuplicates: false)
    expect(piece?.canonicalText() == member.canonicalText(), "\(name) range \(range) holds another value")
  }
}

private func fail(_ message: String, _ line: UnsafeRawBufferPointer) -> Never {
  fatalError("scanner invariant: \(message)\n  line: \(String(decoding: line, as: UTF8.self).debugDescription)")
}
