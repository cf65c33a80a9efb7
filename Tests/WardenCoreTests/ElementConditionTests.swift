import Testing
import WardenCore
import WardenJSON

private func json(_ text: String) throws -> JSON {
  try JSONValue.parse(text).json
}

private func path(_ text: String) -> ArgumentPath {
  guard let path = ArgumentPath(parsing: text) else { fatalError("not a path: \(text)") }
  return path
}

private let operators: [String] = [";", "&", "|", "<", ">", "`", "$", "\n"]

/// The shell's read-only rule: the first word one of the listed programs, no word holding an operator.
private let readOnly = RuleCondition([
  .oneOf(path("command[0]"), [.string("ls"), .string("cat")]),
  .containsNone(path("command[]"), operators),
])

@Suite struct ArgumentPathTests {
  @Test func parsing() {
    #expect(ArgumentPath(parsing: "mode") == ArgumentPath("mode"))
    #expect(ArgumentPath(parsing: "command[0]") == ArgumentPath("command", .element(0)))
    #expect(ArgumentPath(parsing: "command[12]") == ArgumentPath("command", .element(12)))
    #expect(ArgumentPath(parsing: "command[999999]") == ArgumentPath("command", .element(999_999)))
    #expect(ArgumentPath(parsing: "command[]") == ArgumentPath("command", .everyElement))
    #expect(ArgumentPath(parsing: "a.b") == ArgumentPath("a.b"))
    for bad in [
      "", "[0]", "[]", "command[", "command]", "command[01]", "command[-1]", "command[+1]",
      "command[1000000]",
      "command[ 1]", "command[x]", "command[0][1]", "command[0]x", "a]b", "command[١]",
    ] {
      #expect(ArgumentPath(parsing: bad) == nil, "\(bad.debugDescription) must not parse")
    }
    #expect(ArgumentPath("command", .element(3)).description == "command[3]")
    #expect(ArgumentPath("command", .everyElement).description == "command[]")
  }
}

@Suite struct ElementConditionTests {
  @Test func readOnlyRuleMatchesOnlyPlainListedPrograms() throws {
    for allowed in [#"["ls"]"#, #"["ls", "-la"]"#, #"["cat", "notes.txt", "a b"]"#, #"["ls", ""]"#] {
      #expect(readOnly.matches(try json(#"{"command": \#(allowed)}"#)), "\(allowed)")
    }
    for smuggled in [
      #"["rm", "x"]"#, #"["ls", ";", "rm", "x"]"#, #"["ls", "&&", "rm"]"#, #"["ls", "||", "rm"]"#,
      #"["cat", "x", "|", "sh"]"#, #"["ls", ">", "f"]"#, #"["ls", ">>", "f"]"#, #"["cat", "<", "f"]"#,
      #"["ls", "&", "rm"]"#, #"["ls;rm"]"#, #"["ls", "x;rm"]"#, #"["ls", "`rm x`"]"#, #"["ls", "$(rm x)"]"#,
      #"["ls", "\nrm"]"#, #"["/bin/ls"]"#, #"["./ls"]"#, #"[" ls"]"#, #"["ls "]"#, #"["LS"]"#, #"["", "rm"]"#,
      #"[0, "rm"]"#, #"[null, "rm"]"#, #"[false, "rm"]"#, #"[["ls"], "rm"]"#, #"["ls", 1]"#, #"["ls", null]"#,
      #"["ls", {"a": 1}]"#, "[]", #""ls""#, "null", #"{"0": "ls"}"#,
    ] {
      #expect(!readOnly.matches(try json(#"{"command": \#(smuggled)}"#)), "\(smuggled)")
    }
    #expect(!readOnly.matches(try json("{}")))
  }

  @Test func elementTests() throws {
    let args = try json(#"{"c": ["git", "log", 3, true], "s": "text", "n": null}"#)
    func holds(_ test: RuleCondition.Test) -> Bool { RuleCondition([test]).matches(args) }
    #expect(holds(.present(path("c[0]"))) && holds(.present(path("c[3]"))) && !holds(.present(path("c[4]"))))
    #expect(holds(.absent(path("c[4]"))) && !holds(.absent(path("c[3]"))))
    // An element of something that is no array, or of nothing, is neither present nor absent.
    #expect(!holds(.present(path("s[0]"))) && !holds(.absent(path("s[0]"))))
    #expect(!holds(.present(path("x[0]"))) && !holds(.absent(path("x[0]"))))
    #expect(!holds(.absent(path("n[0]"))))
    #expect(holds(.oneOf(path("c[1]"), [.string("log")])) && !holds(.oneOf(path("c[1]"), [.string("Log")])))
    #expect(holds(.oneOf(path("c[2]"), [.number("3")])) && !holds(.oneOf(path("c[2]"), [.string("3")])))
    #expect(holds(.oneOf(path("c[3]"), [.bool(true)])))
    #expect(!holds(.oneOf(path("c[9]"), [.string("git")])))
    #expect(holds(.noneOf(path("c[0]"), [.string("rm")])) && !holds(.noneOf(path("c[0]"), [.string("git")])))
    #expect(!holds(.noneOf(path("c[9]"), [.string("rm")])), "a missing element is no value none of them")
    #expect(!holds(.noneOf(path("n"), [.string("rm")])), "null is no value none of them")
    #expect(!holds(.noneOf(path("c"), [.string("rm")])), "an array is no scalar")
    #expect(holds(.noneOf(path("c[]"), [.string("rm"), .string("3")])))
    #expect(!holds(.noneOf(path("c[]"), [.number("3")])))
    #expect(!holds(.noneOf(path("s[]"), [.string("rm")])) && !holds(.noneOf(path("x[]"), [.string("rm")])))
    #expect(holds(.oneOf(path("c[]"), [.string("git"), .string("log"), .number("3"), .bool(true)])))
    #expect(!holds(.oneOf(path("c[]"), [.string("git"), .string("log"), .number("3")])))
    #expect(holds(.containsNone(path("s"), ["x;"])) && !holds(.containsNone(path("s"), ["ex"])))
    #expect(!holds(.containsNone(path("c[]"), ["zzz"])), "a number is no text")
    #expect(holds(.containsNone(path("c[1]"), ["zzz"])) && !holds(.containsNone(path("c[2]"), ["zzz"])))
    #expect(!holds(.containsNone(path("c[9]"), ["zzz"])) && !holds(.containsNone(path("x"), ["zzz"])))
  }

  @Test func everyElementOfAnEmptyArray() throws {
    let empty = try json(#"{"c": []}"#)
    #expect(!RuleCondition([.oneOf(path("c[]"), [.string("a")])]).matches(empty))
    #expect(RuleCondition([.noneOf(path("c[]"), [.string("a")])]).matches(empty))
    #expect(RuleCondition([.containsNone(path("c[]"), ["a"])]).matches(empty))
    #expect(RuleCondition([.absent(path("c[0]"))]).matches(empty))
  }

  @Test func containsComparesBytes() throws {
    // A decomposed é holds the combining accent; the composed one does not.
    let decomposed = try json(#"{"s": "e\u0301"}"#)
    #expect(!RuleCondition([.containsNone(path("s"), ["\u{0301}"])]).matches(decomposed))
    #expect(RuleCondition([.containsNone(path("s"), ["é"])]).matches(decomposed))
  }

  @Test func argumentNamesAreTheArrays() {
    #expect(readOnly.argumentNames == ["command", "command"])
  }

  @Test func knownContradictionsAndImplications() {
    let c0ls = RuleCondition.Test.oneOf(path("c[0]"), [.string("ls")])
    #expect(!RuleCondition([.absent(path("c")), c0ls]).isSatisfiable)
    #expect(!RuleCondition([.absent(path("c")), .absent(path("c[2]"))]).isSatisfiable)
    #expect(!RuleCondition([.present(path("c[1]")), .absent(path("c[1]"))]).isSatisfiable)
    #expect(!RuleCondition([c0ls, .noneOf(path("c[0]"), [.string("ls"), .string("rm")])]).isSatisfiable)
    #expect(!RuleCondition([c0ls, .containsNone(path("c[0]"), ["s"])]).isSatisfiable)
    #expect(
      RuleCondition([c0ls, .containsNone(path("c[]"), ["s"])]).isSatisfiable, "other paths: not decided")
    #expect(RuleCondition([.present(path("c[1]")), .absent(path("c[2]"))]).isSatisfiable)

    #expect(RuleCondition([c0ls]).implies(RuleCondition([.present(path("c"))])))
    #expect(RuleCondition([.present(path("c[3]"))]).implies(RuleCondition([.present(path("c[1]"))])))
    #expect(!RuleCondition([.present(path("c[1]"))]).implies(RuleCondition([.present(path("c[3]"))])))
    #expect(RuleCondition([c0ls]).implies(RuleCondition([.noneOf(path("c[0]"), [.string("rm")])])))
    #expect(
      RuleCondition([.containsNone(path("c[]"), [";"])]).implies(
        RuleCondition([.containsNone(path("c[]"), ["a;b"])])))
    #expect(
      !RuleCondition([.containsNone(path("c[]"), ["a;b"])]).implies(
        RuleCondition([.containsNone(path("c[]"), [";"])])))
    #expect(
      !RuleCondition([.noneOf(path("c[]"), [.string("x")])]).implies(RuleCondition([.present(path("c[0]"))])))
  }

  /// Every answer of `isSatisfiable` and `implies` checked against every call of a small universe:
  /// a contradiction must match none, an implication must hold on each call the first matches.
  @Test func unreachableRuleDetectionIsSound() throws {
    let values: [JSON] = [.string("ls"), .string("rm"), .string("l;s"), .number("1"), .null]
    var calls: [JSON] = [.object([]), .object([JSON.Member("c", .string("ls"))])]
    for length in 0...2 {
      var arrays: [[JSON]] = [[]]
      for _ in 0..<length { arrays = arrays.flatMap { prefix in values.map { prefix + [$0] } } }
      calls += arrays.map { .object([JSON.Member("c", .array($0))]) }
    }
    let paths = [path("c"), path("c[0]"), path("c[1]"), path("c[]")]
    let lists: [[JSON]] = [[.string("ls")], [.string("rm")], [.string("ls"), .string("rm")], [.number("1")]]
    let texts: [[String]] = [[";"], ["l"], ["s", "x"], ["l;s"]]
    var tests: [RuleCondition.Test] = []
    for path in paths {
      if path.selector != .everyElement { tests += [.present(path), .absent(path)] }
      tests += lists.map { .oneOf(path, $0) } + lists.map { .noneOf(path, $0) }
      tests += texts.map { .containsNone(path, $0) }
    }
    let conditions =
      tests.map { RuleCondition([$0]) }
      + tests.indices.flatMap { i in
        tests.indices.filter { $0 > i && ($0 - i) % 7 == 1 }.map { RuleCondition([tests[i], tests[$0]]) }
      }
    var contradictions = 0
    var implications = 0
    for condition in conditions {
      let matched = calls.map(condition.matches)
      if !condition.isSatisfiable {
        contradictions += 1
        #expect(!matched.contains(true), "\(condition) is satisfiable")
      }
      for other in conditions where condition.implies(other) {
        implications += 1
        for (index, call) in calls.enumerated() where matched[index] {
          #expect(other.matches(call), "\(condition) does not imply \(other): \(call)")
        }
      }
    }
    #expect(contradictions > 10 && implications > 100, "the universe exercises both answers")
  }
}
