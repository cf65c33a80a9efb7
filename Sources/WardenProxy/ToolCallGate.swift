import WardenCore
import WardenJSON

/// Decides a `tools/call` request before it may reach the server, and words the refusal.
struct ToolCallGate {
  let engine: PolicyEngine

  enum Outcome {
    case allow(ToolCall, Authorization)
    case refuse(ToolCall, Authorization)

    var callAndDecision: (ToolCall, Authorization) {
      switch self {
      case .allow(let call, let decision), .refuse(let call, let decision): return (call, decision)
      }
    }
  }

  /// Judges the request whose `params` are `params` (nil when absent): reads it (see
  /// `ToolCallReading`; anything warden cannot read with certainty is refused) and decides it
  /// against the store as it is now. `counting`: the call's first decision, which the circuit
  /// breaker counts (a decision taken again at approval is not a new call).
  func judge(params: UnsafeRawBufferPointer?, agent: String, counting: Bool = true) -> Outcome {
    // Params always come from a line the scanner accepted.
    switch ToolCallReading.read(params, wanted: engine.argumentNames(forTool:), fromScannedLine: true) {
    case .failure(let problem):
      let unnamed = ToolCall(
        server: engine.configuration.serverName, agent: agent, tool: "", arguments: .object([]))
      let refusal = Authorization(verdict: .deny, reason: .badArguments, explanation: problem.message)
      return .refuse(unnamed, counting ? engine.countForBreaker(unnamed, refusal) : refusal)
    case .success(let reading):
      let (call, decided) = engine.decide(
        tool: reading.tool, arguments: reading.arguments, agent: agent, params: params)
      let decision = counting ? engine.countForBreaker(call, decided) : decided
      if decision.verdict == .allow {
        engine.recordUse(of: decision)
        return .allow(call, decision)
      }
      return .refuse(call, decision)
    }
  }

  /// The tool result that answers a refused call (see `ProtocolLines.denial`).
  func refusal(id: RequestID, call: ToolCall, decision: Authorization, perRequestEra: Bool) -> [UInt8] {
    ProtocolLines.denial(
      id: id, call: call, decision: decision, liveGrants: engine.liveGrants, perRequestEra: perRequestEra)
  }
}
