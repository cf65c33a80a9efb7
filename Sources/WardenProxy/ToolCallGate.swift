import WardenCore
import WardenJSON

/// Decides a `tools/call` request before it may reach the server, and words the refusal.
struct ToolCallGate {
  let engine: PolicyEngine

  enum Outcome {
    case allow(ToolCall, Authorization)
    case refuse(ToolCall, Authorization)
  }

  /// Judges the request whose `params` are `params` (nil when absent). Anything warden cannot read
  /// with certainty is refused.
  ///
  /// Only what the decision reads is parsed into values: the tool's name and the arguments its
  /// manifest templates name. The other arguments are split off by position (checked to be valid
  /// JSON with distinct keys by the scanner), so a large argument costs one pass over its bytes.
  func judge(params: UnsafeRawBufferPointer?, agent: String) -> Outcome {
    let unnamed = ToolCall(
      server: engine.configuration.serverName, agent: agent, tool: "", arguments: .object([]))
    func refuse(_ message: String) -> Outcome {
      .refuse(unnamed, Authorization(verdict: .deny, reason: .badArguments, explanation: message))
    }
    guard let params else { return refuse("a tools/call request needs params with the tool's name") }
    // Every byte of the call must mean one thing to every reader, not only the arguments the
    // manifest reads: the human is shown, and the server runs, all of them.
    if let problem = AmbiguityCheck.firstAmbiguity(in: params) {
      return refuse("warden could not read the call unambiguously (\(problem))")
    }
    let members: [ObjectMembers.Member]
    switch ObjectMembers.split(params) {
    case .success(let found): members = found
    case .failure(let problem):
      // Duplicate keys are refused: warden must decide on exactly what the server will read.
      return refuse("warden could not read the call's params unambiguously (\(problem))")
    }
    guard let nameMember = members.first(where: { $0.key.hasSameBytes(as: "name") }),
      let name = try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: params[nameMember.value])).stringValue,
      !name.isEmpty
    else { return refuse("a tools/call request needs a string 'name'") }
    var arguments: [JSON.Member] = []
    if let argumentsMember = members.first(where: { $0.key.hasSameBytes(as: "arguments") }) {
      let bytes = UnsafeRawBufferPointer(rebasing: params[argumentsMember.value])
      switch bytes.first {
      case UInt8(ascii: "{"):
        let wanted = engine.argumentNames(forTool: name)
        switch ObjectMembers.split(bytes) {
        case .failure(let problem):
          return refuse("warden could not read the call's arguments unambiguously (\(problem))")
        case .success(let found):
          for member in found where wanted.contains(where: { $0.hasSameBytes(as: member.key) }) {
            do throws(JSONParseError) {
              let value = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[member.value]))
              arguments.append(JSON.Member(member.key, value.json))
            } catch {
              return refuse(
                "warden could not read the argument '\(member.key)' unambiguously (\(error.message))")
            }
          }
        }
      case UInt8(ascii: "n"):
        break  // null: no arguments
      default:
        return refuse("the 'arguments' of a tools/call request must be an object")
      }
    }
    let (call, decision) = engine.decide(tool: name, arguments: .object(arguments), agent: agent)
    if decision.verdict == .allow {
      engine.recordUse(of: decision)
      return .allow(call, decision)
    }
    return .refuse(call, decision)
  }

  /// The exact bytes of a call's `arguments` value as they stand in `params` (empty when the call
  /// has none): what a human is shown and what an approval binds to.
  static func argumentBytes(_ params: UnsafeRawBufferPointer?) -> [UInt8] {
    guard let params, case .success(let members) = ObjectMembers.split(params),
      let arguments = members.first(where: { $0.key.hasSameBytes(as: "arguments") })
    else { return [] }
    return Array(params[arguments.value])
  }

  /// The tool result that answers a refused call (see `ProtocolLines.denial`).
  func refusal(id: RequestID, call: ToolCall, decision: Authorization, perRequestEra: Bool) -> [UInt8] {
    ProtocolLines.denial(
      id: id, call: call, decision: decision, liveGrants: engine.liveGrants, perRequestEra: perRequestEra)
  }
}
