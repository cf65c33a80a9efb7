import WardenJSON

/// What the call machine says about a call for the audit trail: a decision (allowed, denied, held,
/// approved) or an outcome (what became of a forwarded or held call). The executor adds what only the
/// edge knows (the time, the session, the keyed digest and redacted arguments, grant chains) and
/// appends it to the store's chain.
public struct AuditNote: Sendable, Equatable {
  public enum Kind: String, Sendable {
    case decision
    case outcome
  }

  public var kind: Kind
  /// Links a call's decision and outcome records.
  public var callID: String
  public var call: ToolCall
  /// `allow`, `deny`, `hold` for a decision; for an outcome, what ended the call.
  public var verdict: String
  public var reason: String
  public var explanation: String
  public var action: String?
  public var resources: [String]
  /// Whether the call is destructive, when its scopes are known (decisions).
  public var destructive: Bool?
  /// The grants (or forbids) behind the decision.
  public var grants: [String]
  /// The call's arguments as the record keeps them (decisions only).
  public var arguments: AuditArguments?
  public var holdID: String?
  public var decidedBy: String?
  public var channel: String?
  public var attestation: String?
  /// For an outcome: `result`, `tool-error`, `jsonrpc-error`, `server-gone`, `denied`, `cancelled`,
  /// `timed-out`, `not-recorded`.
  public var outcome: String?
  public var durationMilliseconds: Int64?
  public var resultBytes: Int?

  public init(
    kind: Kind, callID: String, call: ToolCall, verdict: String, reason: String, explanation: String,
    action: String? = nil, resources: [String] = [], grants: [String] = [], arguments: AuditArguments? = nil,
    holdID: String? = nil, decidedBy: String? = nil, channel: String? = nil, attestation: String? = nil,
    outcome: String? = nil, durationMilliseconds: Int64? = nil, resultBytes: Int? = nil
  ) {
    self.kind = kind
    self.callID = callID
    self.call = call
    self.verdict = verdict
    self.reason = reason
    self.explanation = explanation
    self.action = action
    self.resources = resources
    self.grants = grants
    self.arguments = arguments
    self.holdID = holdID
    self.decidedBy = decidedBy
    self.channel = channel
    self.attestation = attestation
    self.outcome = outcome
    self.durationMilliseconds = durationMilliseconds
    self.resultBytes = resultBytes
  }

  /// The decision record of `decision` on `call`.
  public static func decision(
    _ decision: Authorization, verdict: String, callID: String, call: ToolCall, arguments: AuditArguments?
  ) -> AuditNote {
    var note = AuditNote(
      kind: .decision, callID: callID, call: call, verdict: verdict, reason: decision.reason.rawValue,
      explanation: decision.explanation, action: decision.scopes?.action,
      resources: decision.scopes?.resources.map(\.text) ?? [], grants: decision.grants.map(\.id),
      arguments: arguments)
    note.destructive = decision.scopes?.destructive
    return note
  }
}

/// A call's arguments as an audit record keeps them: their digest, keyed with a secret of the store
/// (the hold digest's definition, as an HMAC, so a short redacted value cannot be found by hashing
/// guesses), and their bytes with `redact:` values masked, cut when long.
public struct AuditArguments: Sendable, Equatable {
  public var digest: String
  public var shown: String

  public init(digest: String, shown: String) {
    self.digest = digest
    self.shown = shown
  }
}

/// How a forwarded call ended, as the server's response says.
public enum CallOutcome: Sendable, Equatable {
  case result(bytes: Int)
  case toolError(bytes: Int)
  case rpcError
  case serverGone

  var name: String {
    switch self {
    case .result: return "result"
    case .toolError: return "tool-error"
    case .rpcError: return "jsonrpc-error"
    case .serverGone: return "server-gone"
    }
  }

  var bytes: Int? {
    switch self {
    case .result(let bytes), .toolError(let bytes): return bytes
    default: return nil
    }
  }
}
