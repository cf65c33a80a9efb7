/// A tool call waiting for a human's decision: what it is, why it was held, and how it ended.
public struct Hold: Sendable, Equatable, Codable {
  public enum State: String, Sendable, Codable, CaseIterable {
    case pending
    case approved
    case rejected
    /// Nobody decided before the deadline: denied.
    case expired
    /// The client cancelled the request, or went away.
    case cancelled
  }

  /// `h_` and 16 random characters.
  public var id: String
  public var server: String
  public var agent: String
  public var tool: String
  /// The call's arguments as canonical JSON (keys sorted, compact): what the human is shown.
  public var arguments: String
  /// SHA-256 of the server, the tool and the canonical arguments: an approval binds to exactly this.
  public var digest: String
  public var action: String
  public var resources: [String]
  /// Why a human must decide (`destructive`, `confirm-required`, `undeclared-confirm`, `ungranted`).
  public var reason: String
  public var explanation: String
  /// The grant that covers the call, if any, and its purpose.
  public var grantID: String?
  public var purpose: String?
  /// The `warden run` process holding it.
  public var holderPID: Int32
  public var createdAt: Int64
  /// After this instant (ms) the hold is expired: denied.
  public var deadline: Int64
  public var state: State
  public var decidedBy: String?
  /// Where the decision came from: `elicitation`, `terminal`, `cli`, `timeout`, `client`.
  public var channel: String?
  public var decidedAt: Int64?
  public var note: String?
  /// The code a human must type into the client's form to approve there (see SPEC: approvals that
  /// prove a human); shown only on human-facing channels. Nil when the form needs none.
  public var approvalCode: String?
  /// How the decision was attested (`Attestation`), once decided.
  public var attestation: String?

  public init(
    id: String, server: String, agent: String, tool: String, arguments: String, digest: String,
    action: String,
    resources: [String], reason: String, explanation: String, grantID: String?, purpose: String?,
    holderPID: Int32,
    createdAt: Int64, deadline: Int64, state: State = .pending, decidedBy: String? = nil,
    channel: String? = nil,
    decidedAt: Int64? = nil, note: String? = nil, approvalCode: String? = nil, attestation: String? = nil
  ) {
    self.approvalCode = approvalCode
    self.attestation = attestation
    self.id = id
    self.server = server
    self.agent = agent
    self.tool = tool
    self.arguments = arguments
    self.digest = digest
    self.action = action
    self.resources = resources
    self.reason = reason
    self.explanation = explanation
    self.grantID = grantID
    self.purpose = purpose
    self.holderPID = holderPID
    self.createdAt = createdAt
    self.deadline = deadline
    self.state = state
    self.decidedBy = decidedBy
    self.channel = channel
    self.decidedAt = decidedAt
    self.note = note
  }
}

/// How a decision on a hold was attested: one vocabulary for holds and the audit trail.
public enum Attestation: String, Sendable, CaseIterable {
  /// `warden confirm`, answered at a prompt on a terminal.
  case terminalPrompt = "terminal-prompt"
  /// `warden approve` / `reject` run from a terminal.
  case cliTerminal = "cli-terminal"
  /// `warden approve` / `reject` run without a terminal, allowed by `scripted: allow`.
  case cliScripted = "cli-scripted"
  /// The client's form, with the approval code shown only on a human-facing channel.
  case elicitationCode = "elicitation-code"
  /// The client's answer alone (`elicitation` listed in `confirm.channels`): proves a client answered.
  case elicitationClient = "elicitation-client"
  /// Warden itself: a deadline, a cancellation, shutdown, a store failure, a refused code.
  case warden
}
