/// The members of one JSON object, as keys and the byte ranges of their values, without parsing the
/// values: so that warden parses only the arguments a decision reads, however large the others are.
public enum ObjectMembers {
  /// One member: its decoded key and where its value lies in the bytes given.
  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: Range<Int>
  }

  /// Why the bytes are not one object with distinct keys.
  public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
  }

  /// Splits `bytes` (one JSON object, already known to be valid JSON or not) into its members.
  /// A key given twice is a problem: readers disagree on which one wins.
  public static func split(_ bytes: UnsafeRawBufferPointer) -> Result<[Member], Problem> {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return .failure(Problem(message: "empty")) }
    var cursor = Cursor(base: base.assumingMemoryBound(to: UInt8.self), end: bytes.count)
    var deep: [Bool] = []
    var members: [Member] = []
    var seen = Set<String>()
    do throws(SyntaxError) {
      cursor.skipWhitespace()
      try cursor.expect(UInt8(ascii: "{"))
      cursor.skipWhitespace()
      if cursor.peek() == UInt8(ascii: "}") {
        cursor.pos += 1
      } else {
        while true {
          cursor.skipWhitespace()
          guard cursor.peek() == UInt8(ascii: "\"") else {
            throw SyntaxError("expected a key at offset \(cursor.pos)")
          }
          let start = cursor.pos + 1
          let (end, escaped) = try cursor.skipString()
          let key =
            escaped ? try Cursor.decode(cursor.base, start..<(end - 1)) : cursor.text(start..<(end - 1))
          guard seen.insert(key).inserted else {
            return .failure(Problem(message: "the key \"\(key)\" appears more than once"))
          }
          cursor.skipWhitespace()
          try cursor.expect(UInt8(ascii: ":"))
          cursor.skipWhitespace()
          let valueStart = cursor.pos
          try cursor.skipValue(deep: &deep)
          members.append(Member(key: key, value: valueStart..<cursor.pos))
          cursor.skipWhitespace()
          guard let next = cursor.next() else { throw SyntaxError("unterminated object") }
          if next == UInt8(ascii: "}") { break }
          guard next == UInt8(ascii: ",") else {
            throw SyntaxError("expected ',' or '}' at offset \(cursor.pos - 1)")
          }
        }
      }
      try cursor.expectEnd()
    } catch {
      return .failure(Problem(message: error.detail))
    }
    return .success(members)
  }
}
