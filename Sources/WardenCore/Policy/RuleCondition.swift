import WardenJSON

/// When a tool's conditional rule applies: every test must hold on the call's arguments (top-level
/// argument names). Values are compared as exact bytes (strings) or exact JSON text (numbers), as
/// the server will receive them; no case folding, no normalization.
public struct RuleCondition: Sendable, Equatable {
  public enum Test: Sendable, Equatable {
    /// The argument is in the call, whatever its value (`null` included: a server may act on it).
    case present(String)
    /// The argument is not in the call at all.
    case absent(String)
    /// The argument is one of these scalar values (strings, numbers, booleans).
    case oneOf(String, [JSON])

    var argument: String {
      switch self {
      case .present(let name), .absent(let name), .oneOf(let name, _): return name
      }
    }
  }

  public var tests: [Test]

  public init(_ tests: [Test]) {
    self.tests = tests
  }

  /// The argument names the tests read.
  public var argumentNames: [String] { tests.map(\.argument) }

  public func matches(_ arguments: JSON) -> Bool {
    tests.allSatisfy { test in
      switch test {
      case .present(let name): return arguments[name] != nil
      case .absent(let name): return arguments[name] == nil
      case .oneOf(let name, let values):
        guard let value = arguments[name] else { return false }
        return values.contains { Self.same(value, $0) }
      }
    }
  }

  /// Whether some arguments could satisfy every test (no `present` and `absent` of one argument, no
  /// two `oneOf` of one argument without a value in common).
  public var isSatisfiable: Bool {
    for (index, test) in tests.enumerated() {
      for other in tests[(index + 1)...] where other.argument.hasSameBytes(as: test.argument) {
        switch (test, other) {
        case (.absent, .present), (.present, .absent), (.absent, .oneOf), (.oneOf, .absent): return false
        case (.oneOf(_, let left), .oneOf(_, let right)):
          if !left.contains(where: { value in right.contains { Self.same(value, $0) } }) { return false }
        default: continue
        }
      }
    }
    return true
  }

  /// Whether every call this condition matches is also matched by `other` (so a rule with this
  /// condition placed after one with `other` can never apply). Sound, not complete: it answers true
  /// only when each of `other`'s tests follows from one of these.
  public func implies(_ other: RuleCondition) -> Bool {
    other.tests.allSatisfy { wanted in tests.contains { Self.test($0, implies: wanted) } }
  }

  private static func test(_ have: Test, implies wanted: Test) -> Bool {
    guard have.argument.hasSameBytes(as: wanted.argument) else { return false }
    switch (have, wanted) {
    case (.present, .present), (.oneOf, .present), (.absent, .absent): return true
    case (.oneOf(_, let narrow), .oneOf(_, let wide)):
      return narrow.allSatisfy { value in wide.contains { same(value, $0) } }
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
}
