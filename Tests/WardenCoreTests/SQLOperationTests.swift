import Testing
import WardenCore

@Suite("SQL operations")
struct SQLOperationTests {
  @Test func deduplicationKeepsFirstAppearanceWithinStatementOrder() {
    let operations = [
      SQLOperation(kind: "read", table: "b", statement: 1),
      SQLOperation(kind: "delete", table: "a", statement: 0),
      SQLOperation(kind: "read", table: "b", statement: 1),
      SQLOperation(kind: "read", table: "a", statement: 0),
      SQLOperation(kind: "delete", table: "a", statement: 0),
      SQLOperation(kind: "transaction", statement: 1),
    ]
    #expect(
      operations.deduplicatedInStatementOrder().map(\.description) == [
        "0: delete a", "0: read a", "1: read b", "1: transaction",
      ])
  }

  @Test func theVocabularyIsLowercaseAndUnique() {
    #expect(Set(SQLOperation.kinds).count == SQLOperation.kinds.count)
    #expect(SQLOperation.kinds.allSatisfy { $0 == $0.lowercased() })
    #expect(SQLDialect.allCases.map(\.rawValue) == ["sqlite", "postgres"])
  }
}
