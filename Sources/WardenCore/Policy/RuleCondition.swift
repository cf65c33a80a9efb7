import WardenJSON

/// When a tool's conditional rule applies: every test must hold on the call's arguments. A test
/// reads a top-level argument, one element of an array argument (`command[0]`) or every element of
/// one (`command[]`), see `ArgumentPath`. Values are compared as exact bytes (strings) or exact JSON
/// text (numbers), as the server will receive them; no case folding, no normalization.
///
/// Every test that reads a value holds only when that value is there and of the kind the test
/// compares (a scalar; a string for `containsNone`): a test that cannot be sure does not hold, so a
/// rule that grants less scrutiny (a read-only rule before a destructive fallback) fails closed.
public struct RuleCondition: Sendable, Equatable {
  public enum Test: Sendable, Equatable {
    /// The value is in the call, whatever it is (`null` included: a server may act on it). For an
    /// element (`ARG[N]`): the argument is an array with more than N elements.
    case present(ArgumentPath)
    /// The argument is not in the call at all. For an element (`ARG[N]`): the argument is an array
    /// with at most N elements.
    case absent(ArgumentPath)
    /// The value is one of these scalars (strings, numbers, booleans). For every element (`ARG[]`):
    /// the argument is a non-empty array and each element is one of them.
    case oneOf(ArgumentPath, [JSON])
    /// The value is a string, number or boolean and none of these. For every element (`ARG[]`): the
    /// argument is an array and no element is one of them (each a string, number or boolean).
    case noneOf(ArgumentPath, [JSON])
    /// The value is a string holding none of these texts (compared as bytes). For every element
    /// (`ARG[]`): the argument is an array of strings, none holding any of them.
    case containsNone(ArgumentPath, [String])

    public var path: ArgumentPath {
      switch self {
      case .present(let path), .absent(let path), .oneOf(let path, _), .noneOf(let path, _),
        .containsNone(let path, _):
        return path
      }
    }

    var argument: String { path.argument }
  }

  public var tests: [Test]

  public init(_ tests: [Test]) {
    self.tests = tests
  }

  /// The argument names the tests read (the array's name for an element path).
  public var argumentNames: [String] { tests.map(\.argument) }

  public func matches(_ arguments: JSON) -> Bool {
    tests.allSatisfy { Self.holds($0, on: arguments) }
  }

  private static func holds(_ test: Test, on arguments: JSON) -> Bool {
    let selection = test.path.select(in: arguments)
    switch test {
    case .present:
      if case .values(let values) = selection { return !values.isEmpty }
      return false
    case .absent(let path):
      switch (path.selector, selection) {
      case (.whole, .missing): return true
      case (.element, .tooShort): return true
      default: return false
      }
    case .oneOf(_, let wanted):
      guard case .values(let values) = selection, !values.isEmpty else { return false }
      return values.allSatisfy { value in wanted.contains { same(value, $0) } }
    case .noneOf(_, let unwanted):
      guard case .values(let values) = selection else { return false }
      if test.path.selector != .everyElement, values.isEmpty { return false }
      return values.allSatisfy { value in
        isComparable(value) && !unwanted.contains { same(value, $0) }
      }
    case .containsNone(_, let texts):
      guard case .values(let values) = selection else { return false }
      if test.path.selector != .everyElement, values.isEmpty { return false }
      return values.allSatisfy { value in
        guard case .string(let string) = value else { return false }
        return !texts.contains { contains(string, $0) }
      }
    }
  }

  /// Whether some arguments could satisfy every test. Sound: false only when no arguments can
  /// (a `present` and an `absent` of one value; an `absent` argument whose elements another test
  /// reads; two `oneOf` of one value without a value in common; a `oneOf` whose every value a
  /// `noneOf` or `containsNone` of the same value excludes).
  public var isSatisfiable: Bool {
    for (index, test) in tests.enumerated() {
      for other in tests[(index + 1)...] where other.argument.hasSameBytes(as: test.argument) {
        if Self.contradict(test, other) || Self.contradict(other, test) { return false }
      }
    }
    return true
  }

  private static func contradict(_ first: Test, _ second: Test) -> Bool {
    // An absent argument has no elements, and no value for a test that needs one.
    if case .absent(let path) = first, path.selector == .whole {
      if second.path.selector != .whole { return true }
      if case .absent = second { return false }
      return true
    }
    guard first.path == second.path else { return false }
    switch (first, second) {
    case (.present, .absent): return true
    case (.oneOf(_, let left), .oneOf(_, let right)):
      return !left.contains { value in right.contains { same(value, $0) } }
    case (.oneOf(_, let allowed), .noneOf(_, let excluded)):
      return allowed.allSatisfy { value in excluded.contains { same(value, $0) } }
    case (.oneOf(_, let allowed), .containsNone(_, let texts)):
      return allowed.allSatisfy { value in
        guard case .string(let string) = value else { return true }
        return texts.contains { contains(string, $0) }
      }
    default: return false
    }
  }

  /// Whether every call this condition matches is also matched by `other` (so a rule with this
  /// condition placed after one with `other` can never apply). Sound, not complete: it answers true
  /// only when each of `other`'s tests follows from one of these.
  public func implies(_ other: RuleCondition) -> Bool {
    other.tests.allSatisfy { wanted in tests.contains { Self.test($0, implies: wanted) } }
  }

  private static func test(_ have: Test, implies wanted: Test) -> Bool {
    guard have.argument.hasSameBytes(as: wanted.argument) else { return false }
    let haveSelector = have.path.selector
    // Every test of an element, or of every element, holds only on an array: the argument is there.
    if case .present(let path) = wanted, path.selector == .whole, haveSelector != .whole { return true }
    // An element that is there, or a value test on it, means every element before it is there.
    if case .present(let path) = wanted, case .element(let wantedIndex) = path.selector,
      case .element(let haveIndex) = haveSelector, wantedIndex <= haveIndex
    {
      if case .absent = have { return false }
      return true
    }
    guard have.path == wanted.path else { return false }
    switch (have, wanted) {
    case (.present, .present), (.absent, .absent): return true
    case (.oneOf, .present): return true
    case (.noneOf, .present), (.containsNone, .present):
      // Both hold on an empty array when they read every element; on one value, it is there.
      return haveSelector != .everyElement
    case (.oneOf(_, let narrow), .oneOf(_, let wide)):
      return narrow.allSatisfy { value in wide.contains { same(value, $0) } }
    case (.noneOf(_, let wide), .noneOf(_, let narrow)):
      return narrow.allSatisfy { value in wide.contains { same(value, $0) } }
    case (.oneOf(_, let allowed), .noneOf(_, let excluded)):
      return allowed.allSatisfy { value in
        isComparable(value) && !excluded.contains { same(value, $0) }
      }
    case (.containsNone(_, let wide), .containsNone(_, let narrow)):
      // A value holding none of `wide` holds no text that contains one of them.
      return narrow.allSatisfy { text in wide.contains { contains(text, $0) } }
    case (.oneOf(_, let allowed), .containsNone(_, let texts)):
      return allowed.allSatisfy { value in
        guard case .string(let string) = value else { return false }
        return !texts.contains { contains(string, $0) }
      }
    default: return false
    }
  }

  /// Scalars compared as the server receives them: strings by their bytes, numbers by their text.
  static func same(_ left: JSON, _ right: JSON) -> Bool {
    switch (left, right) {
    case (.string(let a), .string(let b)): return a.hasSameBytes(as: b)
    case (.number(let a), .number(let b)): return a.hasSameBytes(as: b)
    case (.bool(let a), .bool(let b)): return a == b
    case (.null, .null): return true
    default: return false
    }
  }

  /// A string, number or boolean: a value `noneOf` can tell apart from the values it lists.
  static func isComparable(_ value: JSON) -> Bool {
    switch value {
    case .string, .number, .bool: return true
    default: return false
    }
  }

  /// Whether `text` holds `part` (bytes; an empty part is in every text).
  static func contains(_ text: String, _ part: String) -> Bool {
    let haystack = Array(text.utf8)
    let needle = Array(part.utf8)
    guard !needle.isEmpty else { return true }
    guard haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count)
    where haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
      return true
    }
    return false
  }
}

/// What a condition's test reads: a top-level argument (`mode`), one element of an array argument
/// (`command[0]`), or every element of one (`command[]`).
public struct ArgumentPath: Sendable, Equatable, CustomStringConvertible {
  public enum Selector: Sendable, Equatable {
    /// The argument itself.
    case whole
    /// The element at this index (0-based) of an array argument.
    case element(Int)
    /// Every element of an array argument.
    case everyElement
  }

  public var argument: String
  public var selector: Selector

  /// The largest index `ARG[N]` may name.
  public static let maximumIndex = 999_999

  public init(_ argument: String, _ selector: Selector = .whole) {
    self.argument = argument
    self.selector = selector
  }

  /// `ARG`, `ARG[N]` (N decimal digits, at most `maximumIndex`) or `ARG[]`; nil when the text is
  /// none of these (an empty name, or brackets that are not one of these suffixes).
  public init?(parsing text: String) {
    let bytes = Array(text.utf8)
    guard let open = bytes.firstIndex(of: UInt8(ascii: "[")) else {
      guard !bytes.isEmpty, !bytes.contains(UInt8(ascii: "]")) else { return nil }
      self.init(text)
      return
    }
    guard open > 0, bytes.last == UInt8(ascii: "]") else { return nil }
    let name = String(decoding: bytes[..<open], as: UTF8.self)
    let inside = bytes[(open + 1)..<(bytes.count - 1)]
    guard !name.utf8.contains(UInt8(ascii: "]")) else { return nil }
    if inside.isEmpty {
      self.init(name, .everyElement)
      return
    }
    guard inside.count <= 6, inside.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
      inside.count == 1 || inside.first != UInt8(ascii: "0"),
      let index = Int(String(decoding: inside, as: UTF8.self))
    else { return nil }
    self.init(name, .element(index))
  }

  public var description: String {
    switch selector {
    case .whole: return argument
    case .element(let index): return "\(argument)[\(index)]"
    case .everyElement: return "\(argument)[]"
    }
  }

  public static func == (left: ArgumentPath, right: ArgumentPath) -> Bool {
    left.argument.hasSameBytes(as: right.argument) && left.selector == right.selector
  }

  /// What the path finds in the call's arguments.
  enum Selection: Equatable {
    /// The argument is not in the call.
    case missing
    /// The argument is there and is no array, so it has no elements.
    case notAnArray
    /// The argument is an array without the element asked for.
    case tooShort
    /// The values found: the argument, the element, or every element (possibly none).
    case values([JSON])
  }

  func select(in arguments: JSON) -> Selection {
    guard let value = arguments[argument] else { return .missing }
    switch selector {
    case .whole: return .values([value])
    case .element(let index):
      guard case .array(let elements) = value else { return .notAnArray }
      return index < elements.count ? .values([elements[index]]) : .tooShort
    case .everyElement:
      guard case .array(let elements) = value else { return .notAnArray }
      return .values(elements)
    }
  }
}
