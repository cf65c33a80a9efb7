/// What becomes of one `tools/call` once it is decided: a pure function of the decision and of what
/// the session allows, so that every path a call can take is one case here and is tested without
/// pipes, threads or a store. The relay only carries the route out.
public enum CallRoute: Sendable, Equatable {
  /// Forward the request line to the server, as the client sent it.
  case forward
  /// Answer the client with a denial; the server never sees the call.
  case deny(Authorization)
  /// Hold the call and answer at once with warden's question in the result (`input_required`,
  /// per-request era, a client that can show a form).
  case holdAndAskInResult(Authorization)
  /// Hold the call until a decision (asking in the client's UI where it can show a form in the
  /// handshake era, and from any terminal).
  case hold(Authorization)

  /// What the session allows when a call needs a human.
  public struct Context: Sendable, Equatable {
    /// The session speaks the per-request era (2026-07-28).
    public var perRequestEra: Bool
    /// A store is there to record holds in.
    public var holdsAvailable: Bool
    /// The client's form may be used (`elicitation` is a channel, and not shut off this session).
    public var clientMayBeAsked: Bool
    /// The request's own `_meta` says its client can show an elicitation form (per-request era).
    public var requestDeclaresElicitation: Bool

    public init(
      perRequestEra: Bool, holdsAvailable: Bool, clientMayBeAsked: Bool, requestDeclaresElicitation: Bool
    ) {
      self.perRequestEra = perRequestEra
      self.holdsAvailable = holdsAvailable
      self.clientMayBeAsked = clientMayBeAsked
      self.requestDeclaresElicitation = requestDeclaresElicitation
    }
  }

  /// The route of a call decided `decision` in `context`.
  public static func of(_ decision: Authorization, in context: Context) -> CallRoute {
    switch decision.verdict {
    case .allow: return .forward
    case .deny: return .deny(decision)
    case .confirm:
      // No store to hold it in: nobody can be asked, so the call is denied (needsConfirmation).
      guard context.holdsAvailable else { return .deny(decision) }
      if context.perRequestEra && context.clientMayBeAsked && context.requestDeclaresElicitation {
        return .holdAndAskInResult(decision)
      }
      return .hold(decision)
    }
  }

  /// The denial when a hold could not be recorded: the store failed, so nobody could be asked.
  public static func holdNotRecorded(_ decision: Authorization) -> Authorization {
    var denial = CallPolicy.storeUnavailable("the hold could not be recorded")
    denial.scopes = decision.scopes
    return denial
  }
}
