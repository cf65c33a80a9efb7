import Foundation
import Testing
import WardenCore
import WardenJSON
import WardenSQL

/// The decision corpus: `Fixtures/sql-corpus.jsonl` holds one case a line: a name, a dialect, the
/// SQL text, and either the operations expected (`"N: kind table"`, in order) or a part of the
/// error expected. Adding a case is adding a line.
@Suite("SQL corpus")
struct SQLCorpusTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var line: Int
    var name: String
    var dialect: SQLDialect
    var text: String
    var expected: [String]?
    var error: String?

    var testDescription: String { "line \(line): \(name)" }
  }

  static let path = String(#filePath.dropLast("SQLCorpusTests.swift".count)) + "Fixtures/sql-corpus.jsonl"

  static let cases: [Case] = {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    var cases: [Case] = []
    for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
      guard !line.hasPrefix("//"), let value = try? JSONValue.parse(String(line)).json else { continue }
      guard let name = value["name"]?.stringValue,
        let dialect = value["dialect"]?.stringValue.flatMap(SQLDialect.init),
        let text = value["sql"]?.stringValue
      else { continue }
      var expected: [String]?
      if case .array(let items)? = value["expect"] { expected = items.compactMap(\.stringValue) }
      cases.append(
        Case(
          line: index + 1, name: name, dialect: dialect, text: text, expected: expected,
          error: value["error"]?.stringValue))
    }
    return cases
  }()

  @Test func theCorpusIsThere() throws {
    let lines = try String(contentsOfFile: Self.path, encoding: .utf8).split(separator: "\n").filter {
      !$0.hasPrefix("//")
    }
    #expect(lines.count == Self.cases.count, "a line of the corpus does not read as a case")
    #expect(Self.cases.count >= 60)
    for dialect in SQLDialect.allCases { #expect(Self.cases.contains { $0.dialect == dialect }) }
  }

  @Test(arguments: cases)
  func corpus(_ testCase: Case) {
    let classifier = SQLClassifier()
    do {
      let operations = try classifier.operations(in: testCase.text, dialect: testCase.dialect, schema: nil)
      if let error = testCase.error {
        Issue.record("expected an error with '\(error)', got \(operations.map(\.description))")
      } else {
        #expect(operations.map(\.description) == testCase.expected ?? [])
      }
    } catch {
      if let expected = testCase.error {
        #expect(error.message.contains(expected), "message: \(error.message)")
      } else {
        Issue.record("unexpected error: \(error.message)")
      }
    }
  }
}
