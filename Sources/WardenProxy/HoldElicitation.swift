import Logging
import Synchronization
import WardenCore
import WardenJSON

/// Asking the human about a held call in the agent's own UI: MCP elicitation, handshake era.
extension HoldKeeper {
  /// In the handshake era, asks the human in the agent's own UI too, when the client can show a form
  /// (`elicitation/create`, with warden's own request id, so the answer comes back to warden).
  func askInTheClient(_ hold: Hold) {
    guard clientMayBeAsked else { return }
    let id: RequestID? = session.withLock { session in
      guard session.clientCanElicit, case .handshake = session.era else { return nil }
      return session.openOwnRequest(method: "elicitation/create")
    }
    guard let id else { return }
    book.withLock { $0.asked(holdID: hold.id, question: id) }
    logger.info("asking the client's user about \(hold.id) (elicitation \(id))")
    client.write(
      ProtocolLines.request(id: id, method: "elicitation/create", params: Self.elicitationParams(for: hold)))
  }

  /// Withdraws the question still open in the client about a hold that ended (decided elsewhere,
  /// expired, cancelled): `notifications/cancelled` for warden's own `elicitation/create`, so the
  /// client can close its form; a late answer is then consumed and ignored.
  func withdrawQuestion(of entry: Held) {
    guard let question = entry.question else { return }
    logger.info("withdrawing the question about \(entry.hold.id) (elicitation \(question))")
    client.write(
      ProtocolLines.cancelled(requestID: question, reason: "decided elsewhere (hold \(entry.hold.id))"))
  }

  /// The client answered an elicitation: accept with "approve" approves; anything else (deny,
  /// decline, cancel, an error) rejects.
  func elicitationAnswered(requestID: RequestID, envelope: Envelope, line: UnsafeRawBufferPointer) {
    guard let entry = book.withLock({ $0.questionAnswered(requestID) }) else { return }
    var reading = Reading(
      approve: false, note: "the client could not ask (an error answered the elicitation)",
      attestation: .elicitationClient)
    if !envelope.isError, let payload = envelope.payload {
      reading = Self.reading(
        try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: line[payload])), code: entry.hold.approvalCode)
    }
    if reading.wrongCode { noteWrongCode() }
    let who = "the user of " + (session.withLock { $0.clientName } ?? "the client")
    finish(
      entry, as: reading.approve ? .approved : .rejected, by: who, channel: "elicitation", note: reading.note,
      attestation: reading.attestation)
  }

  /// The `elicitation/create` params that ask about `hold`: the question, a required choice and,
  /// unless the client's answers are trusted, the approval code.
  static func elicitationParams(for hold: Hold) -> JSONValue {
    let decision = JSONValue.object([
      ("type", .string("string")), ("title", .string("Your decision")),
      ("enum", .array([.string("approve"), .string("deny")])),
      ("enumNames", .array([.string("Approve this call"), .string("Deny it")])),
    ])
    var properties: [(String, JSONValue)] = [("decision", decision)]
    if hold.approvalCode != nil {
      properties.append(
        (
          "code",
          .object([
            ("type", .string("string")), ("title", .string("Approval code")),
            (
              "description",
              .string(
                "To approve, the 6-digit code from the desktop notification or from `warden holds` in your terminal. One try; not needed to deny."
              )
            ),
            ("maxLength", .integer(16)),
          ])
        ))
    }
    return .object([
      ("message", .string(question(for: hold))),
      (
        "requestedSchema",
        .object([
          ("type", .string("object")),
          ("properties", .object(properties)),
          ("required", .array([.string("decision")])),
        ])
      ),
    ])
  }

  /// What an answer in the client's form means, and how it is attested.
  struct Reading: Equatable {
    var approve: Bool
    var note: String
    var attestation: Attestation
    /// An approval came with a wrong or missing code.
    var wrongCode = false
  }

  /// Whether the client's form may be used to ask about a new hold: `elicitation` is a channel,
  /// and the client has not given too many wrong codes this session.
  var clientMayBeAsked: Bool {
    askInClient && book.withLock { $0.clientMayBeAsked }
  }

  /// Counts a wrong code; past the tolerance, the client is no longer asked this session.
  func noteWrongCode() {
    let stillAsked = book.withLock { book -> Bool in
      book.noteWrongCode()
      return book.clientMayBeAsked
    }
    if !stillAsked {
      logger.warning(
        "the client gave \(HoldBook.wrongCodesTolerated) wrong approval codes: held calls are no longer asked about in the client this session, only in a terminal"
      )
    }
  }

  /// Whether an elicitation answer approves: accept with the decision "approve" and, when the hold
  /// has an approval code, exactly that code (one try: a wrong or missing code rejects the call).
  /// Anything else (deny, decline, cancel, a missing or strange answer) does not, with a note.
  static func reading(_ answer: JSONValue?, code expected: String?) -> Reading {
    let attested: Attestation = expected == nil ? .elicitationClient : .elicitationCode
    guard let answer, answer.kind == .object else {
      return Reading(approve: false, note: "no answer from the client", attestation: .elicitationClient)
    }
    let action = answer["action"]?.stringValue ?? ""
    let approve = action == "accept" && answer["content"]?["decision"]?.stringValue == "approve"
    switch action {
    case "accept" where approve:
      if let expected {
        let given = answer["content"]?["code"]?.stringValue?.filter { !$0.isWhitespace } ?? ""
        guard given.hasSameBytes(as: expected) else {
          return Reading(
            approve: false,
            note: given.isEmpty
              ? "approved in the client without the approval code, which proves no human saw it"
              : "approved in the client with a wrong approval code (one try per hold)",
            attestation: .elicitationClient, wrongCode: true)
        }
      }
      return Reading(approve: true, note: "approved in the client", attestation: attested)
    case "accept":
      return Reading(approve: false, note: "denied in the client", attestation: .elicitationClient)
    case "decline":
      return Reading(approve: false, note: "declined in the client", attestation: .elicitationClient)
    case "cancel":
      return Reading(approve: false, note: "dismissed in the client", attestation: .elicitationClient)
    default:
      return Reading(
        approve: false, note: "an unknown answer in the client, taken as no", attestation: .elicitationClient)
    }
  }

  /// What the human is asked: everything needed to decide, escaped, long values cut.
  static func question(for hold: Hold) -> String {
    let show = HumanText.escaped
    var lines = [
      "Warden is holding a tool call that needs your confirmation.", "",
      "Server: \(show(hold.server))", "Agent: \(show(hold.agent))", "Tool: \(show(hold.tool))",
    ]
    if hold.approvalCode != nil {
      lines.append(
        "To approve, choose approve and enter the approval code shown in the desktop notification or by `warden holds` in your terminal."
      )
    }
    let arguments = hold.arguments.isEmpty ? "(none)" : hold.arguments
    lines.append(
      "Arguments (exactly as the server gets them): "
        + HumanText.shortened(
          arguments, limit: 1200,
          rest: "digest \(hold.digest.prefix(16)); read it all with: warden holds --full"))
    lines.append(
      "It means: \(show(hold.action))\(hold.resources.isEmpty ? "" : " on " + hold.resources.map(show).joined(separator: ", "))"
    )
    lines.append("Held because: \(show(hold.explanation))")
    if let grant = hold.grantID { lines.append("Delegation: \(grant), \"\(show(hold.purpose ?? ""))\"") }
    lines.append("")
    lines.append(
      "Approve it only if you want it done now. (Hold \(hold.id); you can also decide with: warden confirm)")
    return lines.joined(separator: "\n")
  }
}
