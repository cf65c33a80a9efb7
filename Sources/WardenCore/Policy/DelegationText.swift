/// The words warden says about delegations: to the agent when it denies, in `instructions`, and in
/// the commands it suggests to the human.
public enum DelegationText {
  /// A one-line description of a grant or forbid.
  public static func describe(_ grant: Grant) -> String {
    let verb = grant.effect == .allow ? "allows" : "forbids"
    var text = "\(grant.id) \(verb) \(grant.actions.joined(separator: ", "))"
    if !grant.resources.isEmpty { text += " on \(grant.resources.joined(separator: ", "))" }
    if grant.agent != "*" { text += " for agent \(grant.agent)" }
    if grant.server != "*" { text += " on server \(grant.server)" }
    if !grant.confirm.isEmpty { text += ", confirming \(grant.confirm.joined(separator: ", "))" }
    if let limit = grant.rateLimit {
      text += ", at most \(limit.count) calls per \(Durations.describe(limit.periodMilliseconds))"
    }
    text += " — \"\(grant.purpose)\" (by \(grant.issuedBy)"
    if let expiresAt = grant.expiresAt { text += ", until \(Timestamps.format(expiresAt))" }
    return text + ")"
  }

  /// The `warden grant` command that would cover what `authorization` found missing.
  public static func suggestedGrant(for call: ToolCall, authorization: Authorization) -> String? {
    guard authorization.reason == .notDelegated, let scopes = authorization.scopes else { return nil }
    var words = [
      "warden", "grant", "--server", call.server, "--agent", call.agent, "--allow",
      authorization.operation?.action ?? scopes.action,
    ]
    for resource in authorization.uncovered { words += ["--on", resource.text] }
    words += ["--for", "1h", "--purpose", "<why the agent may do this>"]
    return words.map(shellQuoted).joined(separator: " ")
  }

  /// The message a denied call returns to the agent: what, why, the delegation in force, and what a
  /// human could do about it.
  public static func denial(for call: ToolCall, authorization: Authorization, liveGrants: [Grant]) -> String {
    var lines = ["Warden denied this call to '\(call.tool)': \(authorization.explanation)."]
    if let scopes = authorization.scopes {
      let resources =
        scopes.resources.isEmpty ? "no resources" : scopes.resources.map(\.text).joined(separator: ", ")
      lines.append("The call means: \(scopes.action) on \(resources).")
    }
    let relevant = applicable(liveGrants, server: call.server, agent: call.agent)
    if relevant.isEmpty {
      lines.append("No delegation is in force for agent '\(call.agent)' on server '\(call.server)'.")
    } else {
      lines.append("Delegation in force for agent '\(call.agent)' on server '\(call.server)':")
      lines += relevant.prefix(10).map { "  - " + describe($0) }
      if relevant.count > 10 { lines.append("  - and \(relevant.count - 10) more") }
    }
    switch authorization.reason {
    case .notDelegated:
      // What the human would have to delegate, never a command: an agent with a shell would run it.
      if let scopes = authorization.scopes {
        let resources =
          (authorization.uncovered.isEmpty
          ? authorization.operation?.resources ?? scopes.resources : authorization.uncovered)
          .map(\.text).joined(separator: ", ")
        lines.append(
          "Do not retry or work around this. If the human wants it done, they would have to delegate '\(authorization.operation?.action ?? scopes.action)'"
            + (resources.isEmpty ? "" : " on \(resources)")
            + " to agent '\(call.agent)' on server '\(call.server)' themselves; ask them.")
      }
    case .forbidden:
      if let forbid = authorization.forbid {
        lines.append("A human forbade this on purpose (forbid \(forbid.id)); only they can lift it.")
      }
    case .noManifest, .undeclared:
      lines.append(
        "Warden only lets through calls whose meaning a manifest declares. A human can add the tool to the server's manifest (see `warden manifest show`) in $WARDEN_HOME/manifests/."
      )
    case .badArguments:
      lines.append("Fix the arguments and call again.")
    case .destructive, .confirmRequired, .undeclaredConfirm, .ungranted:
      lines.append("It needs a human's confirmation, and none could be asked for; ask the human.")
    case .rejected:
      lines.append("A human decided against it; do not retry it unless they ask you to.")
    case .confirmationTimedOut:
      lines.append(
        "Nobody confirmed it in time, so it did not run. Ask the human, then try again if they agree.")
    case .shutdown:
      lines.append("Warden stopped before a human decided; the call did not run.")
    case .storeUnavailable:
      lines.append("Nothing is allowed until warden can read its delegation store; tell the human.")
    case .toolDrift:
      lines.append(
        "The server changed this tool since a human accepted it (or added it since): its calls are denied until the human reviews the change. Tell them; do not retry."
      )
    case .breakerTripped:
      lines.append(
        "Stop and tell the human: your calls tripped a circuit breaker they set, and only they can reset it.")
    case .protectedPath, .allowed, .reviewed:
      break
    }
    return lines.joined(separator: "\n")
  }

  /// A short summary of the delegation in force, for the `instructions` a client shows its model.
  public static func summary(server: String, agent: String?, liveGrants: [Grant]) -> String {
    let relevant = applicable(liveGrants, server: server, agent: agent)
    var lines = [
      "Warden enforces a human's delegation on this server ('\(server)'). Tool calls outside it are denied with an explanation; do not try to work around a denial."
    ]
    let grants = relevant.filter { $0.effect == .allow }
    let forbids = relevant.filter { $0.effect == .forbid }
    if grants.isEmpty {
      lines.append("No grant is in force: every tool call will be denied until a human issues one.")
    } else {
      lines.append("In force:")
      lines += grants.prefix(8).map { "- " + describe($0) }
      if grants.count > 8 { lines.append("- and \(grants.count - 8) more grants") }
    }
    if !forbids.isEmpty {
      lines.append("Forbidden:")
      lines += forbids.prefix(8).map { "- " + describe($0) }
    }
    return lines.joined(separator: "\n")
  }

  /// The grants and forbids issued for `server` and `agent` (any agent when nil).
  static func applicable(_ grants: [Grant], server: String, agent: String?) -> [Grant] {
    grants.filter { grant in
      Glob.name(grant.server).matches(server) && (agent.map { Glob.name(grant.agent).matches($0) } ?? true)
    }
  }

  /// `text` quoted for a POSIX shell when it needs quoting.
  public static func shellQuoted(_ text: String) -> String {
    let safe = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=,@%+".contains($0)) }
    if safe && !text.isEmpty { return text }
    var quoted = "'"
    for character in text {
      quoted += character == "'" ? "'\\''" : String(character)
    }
    return quoted + "'"
  }
}
