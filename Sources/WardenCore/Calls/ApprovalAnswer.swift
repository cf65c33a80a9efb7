import WardenJSON

/// What an answer in the client's form (an elicitation, or `inputResponses` in a retried call)
/// means, and how it is attested.
public struct ApprovalAnswer: Sendable, Equatable {
  public var approve: Bool
  public var note: String
  public var attestation: Attestation
  /// An approval came with a wrong or missing code.
  public var wrongCode = false

  public init(approve: Bool, note: String, attestation: Attestation, wrongCode: Bool = false) {
    self.approve = approve
    self.note = note
    self.attestation = attestation
    self.wrongCode = wrongCode
  }

  /// The client answered the question with a JSON-RPC error: it could not ask.
  public static let clientCouldNotAsk = ApprovalAnswer(
    approve: false, note: "the client could not ask (an error answered the elicitation)",
    attestation: .elicitationClient)

  /// Reads the JSON text of an answer (see `read(_:code:)` on a value); text that is not one
  /// unambiguous JSON value is no answer.
  public static func read(_ text: [UInt8]?, code expected: String?) -> ApprovalAnswer {
    read(text.flatMap { try? JSONValue.parse($0) }, code: expected)
  }

  /// Whether an answer approves: accept with the decision "approve" and, when the hold has an
  /// approval code, exactly that code (one try: a wrong or missing code rejects the call). Anything
  /// else (deny, decline, cancel, a missing or strange answer) does not, with a note.
  public static func read(_ answer: JSONValue?, code expected: String?) -> ApprovalAnswer {
    let attested: Attestation = expected == nil ? .elicitationClient : .elicitationCode
    guard let answer, answer.kind == .object else {
      return ApprovalAnswer(
        approve: false, note: "no answer from the client", attestation: .elicitationClient)
    }
    let action = answer["action"]?.stringValue ?? ""
    let approve = action == "accept" && answer["content"]?["decision"]?.stringValue == "approve"
    switch action {
    case "accept" where approve:
      if let expected {
        let given = answer["content"]?["code"]?.stringValue?.filter { !$0.isWhitespace } ?? ""
        guard given.hasSameBytes(as: expected) else {
          return ApprovalAnswer(
            approve: false,
            note: given.isEmpty
              ? "approved in the client without the approval code, which proves no human saw it"
              : "approved in the client with a wrong approval code (one try per hold)",
            attestation: .elicitationClient, wrongCode: true)
        }
      }
      return ApprovalAnswer(approve: true, note: "approved in the client", attestation: attested)
    case "accept":
      return ApprovalAnswer(approve: false, note: "denied in the client", attestation: .elicitationClient)
    case "decline":
      return ApprovalAnswer(approve: false, note: "declined in the client", attestation: .elicitationClient)
    case "cancel":
      return ApprovalAnswer(approve: false, note: "dismissed in the client", attestation: .elicitationClient)
    default:
      return ApprovalAnswer(
        approve: false, note: "an unknown answer in the client, taken as no", attestation: .elicitationClient)
    }
  }
}
