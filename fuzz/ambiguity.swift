// libFuzzer target: AmbiguityCheck.firstAmbiguity(in:) (Sources/WardenJSON), compiled into this module.
//
// The input is the bytes of a call's params. Checked:
// - the check never crashes, whatever the bytes (its contract: "bytes that are not valid JSON are
//   reported too");
// - nil (unambiguous) means jansson, rejecting duplicate keys, reads the bytes as one value: what
//   warden then parses, shows the human and forwards is that value; the only exception is nesting
//   deeper than jansson's limit (2048), which makes warden refuse the call later, not misread it;
// - that value is a fixed point of jansson's canonical form (parse, serialize sorted and compact,
//   parse again, serialize again: same bytes), so the value warden shows is the one it decided on.
//
// FUZZ_AMBIGUITY_VALID_ONLY=1 keeps to bytes the scanner's grammar accepts, which is all that
// ToolCallGate passes (the params of a scanned message): for fuzzing deeper while a crash on
// invalid bytes is open.

#if canImport(Glibc)
  import Glibc
#endif

private let validOnly = getenv("FUZZ_AMBIGUITY_VALID_ONLY").map { String(cString: $0) == "1" } ?? false

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  if validOnly && !scannerAccepts(data, size) { return 0 }
  guard AmbiguityCheck.firstAmbiguity(in: bytes) == nil else { return 0 }

  let value: JSONValue
  do throws(JSONParseError) {
    value = try JSONValue.parse(bytes, rejectingDuplicates: true)
  } catch {
    if error.message.hasPrefix("maximum parsing depth reached") { return 0 }
    fail("no ambiguity reported, but jansson refuses the bytes: \(error)", bytes)
  }
  let canonical = value.canonicalText()
  guard let again = try? JSONValue.parse(canonical) else {
    fail("jansson cannot read back its canonical text \(canonical.debugDescription)", bytes)
  }
  let twice = again.canonicalText()
  if twice != canonical {
    fail("canonical text is not stable: \(canonical.debugDescription) then \(twice.debugDescription)", bytes)
  }
  return 0
}

/// One JSON value and nothing else, by the scanner's own skipping (as a message's params are checked).
private func scannerAccepts(_ data: UnsafePointer<UInt8>, _ size: Int) -> Bool {
  var cursor = Cursor(base: data, end: size)
  var deep: [Bool] = []
  do throws(SyntaxError) {
    cursor.skipWhitespace()
    try cursor.skipValue(deep: &deep)
    try cursor.expectEnd()
    return true
  } catch {
    return false
  }
}

private func fail(_ message: String, _ bytes: UnsafeRawBufferPointer) -> Never {
  fatalError("ambiguity invariant: \(message)\n  input: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
}
