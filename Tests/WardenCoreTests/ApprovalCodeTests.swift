import Testing
import WardenCore
import WardenJSON

/// The client's form approves only with the code a human-facing channel showed; a client that
/// answers every form with "approve" gets nothing through.
@Suite("Approval codes in the client's form")
struct ApprovalCodeTests {
  static func answer(_ json: String) -> JSONValue? { try? JSONValue.parse(json) }

  @Test func anAutomaticApproveWithoutTheCodeRejects() {
    let reading = ApprovalAnswer.read(
      Self.answer(#"{"action":"accept","content":{"decision":"approve"}}"#), code: "123456")
    #expect(!reading.approve)
    #expect(reading.attestation == .elicitationClient)
    #expect(reading.note.contains("without the approval code"))
  }

  @Test func theRightCodeApproves() {
    let reading = ApprovalAnswer.read(
      Self.answer(#"{"action":"accept","content":{"decision":"approve","code":" 123 456 "}}"#), code: "123456"
    )
    #expect(reading.approve)
    #expect(reading.attestation == .elicitationCode)
  }

  @Test(arguments: ["123457", "12345", "1234567", "١٢٣٤٥٦", "123456\u{0}"])
  func aWrongCodeRejects(_ code: String) {
    let json = JSONValue.object([
      ("action", .string("accept")),
      ("content", .object([("decision", .string("approve")), ("code", .string(code))])),
    ]).text()
    let reading = ApprovalAnswer.read(Self.answer(json), code: "123456")
    #expect(!reading.approve)
  }

  @Test func aTrustedClientApprovesAlone() {
    let reading = ApprovalAnswer.read(
      Self.answer(#"{"action":"accept","content":{"decision":"approve"}}"#), code: nil)
    #expect(reading.approve)
    #expect(reading.attestation == .elicitationClient)
  }

  @Test func denyingNeedsNoCode() {
    #expect(!ApprovalAnswer.read(Self.answer(#"{"action":"decline"}"#), code: "123456").approve)
    #expect(
      !ApprovalAnswer.read(Self.answer(#"{"action":"accept","content":{"decision":"deny"}}"#), code: "1")
        .approve)
  }

  @Test func theFormAsksForTheCodeOnlyWhenOneIsNeeded() {
    var hold = Hold(
      id: "h_x", server: "s", agent: "a", tool: "t", arguments: "{}", digest: "d", action: "x.y",
      resources: [],
      reason: "destructive", explanation: "e", grantID: nil, purpose: nil, holderPID: 1, createdAt: 0,
      deadline: 1, approvalCode: "123456")
    #expect(HoldQuestion.params(for: hold)["requestedSchema"]?["properties"]?["code"] != nil)
    #expect(!HoldQuestion.message(for: hold).contains("123456"))
    hold.approvalCode = nil
    #expect(HoldQuestion.params(for: hold)["requestedSchema"]?["properties"]?["code"] == nil)
  }
}
