import Crypto
import WardenCore
import WardenJSON
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Writing a hold: its id, its approval code, the arguments as the human will see them, and the
/// digest the approval binds to.
extension CallExecutor {
  /// Records the hold the machine asked for; reports whether it is in the store. The hold shows the
  /// exact bytes of the arguments (less `redact:`ed values) and its digest binds the approval to
  /// exactly those bytes.
  func record(_ request: CallMachine.HoldRequest) -> CallMachine.Event {
    guard let store else { return .holdNotRecorded(request.requestID, problem: "there is no store") }
    let arguments =
      request.params.map { bytes in bytes.withUnsafeBytes { ToolCallReading.argumentBytes($0) } } ?? []
    let call = request.call
    let decision = request.decision
    let now = PolicyEngine.now()
    let hold = Hold(
      id: "h_" + Self.randomText(16), server: call.server, agent: call.agent, tool: call.tool,
      arguments: ArgumentRedaction.shown(
        arguments, redact: gate.engine.redactedArguments(forTool: call.tool)),
      digest: Self.digest(server: call.server, tool: call.tool, arguments: arguments),
      action: decision.scopes?.action ?? "", resources: decision.scopes?.resources.map(\.text) ?? [],
      reason: decision.reason.rawValue, explanation: decision.explanation, grantID: decision.grants.first?.id,
      purpose: decision.grants.first?.purpose, holderPID: getpid(), createdAt: now,
      deadline: now + timeoutMilliseconds, approvalCode: request.withApprovalCode ? Self.approvalCode() : nil)
    do {
      try store.createHold(hold)
    } catch {
      return .holdNotRecorded(request.requestID, problem: "\(error)")
    }
    DesktopNotice.announce(hold)
    return .holdRecorded(request.requestID, hold)
  }

  /// What an approval binds to (and, later, the audit trail records): SHA-256 over the server's
  /// name, a NUL, the tool's name, a NUL, and the exact bytes of the call's `arguments` value as
  /// forwarded (nothing when the call has none), in lowercase hex.
  static func digest(server: String, tool: String, arguments: [UInt8]) -> String {
    var hasher = SHA256()
    hasher.update(data: Array(server.utf8) + [0] + Array(tool.utf8) + [0] + arguments)
    return Hex.encode(hasher.finalize())
  }

  /// Six random digits: typed by a person reading them off a notification or a terminal; one try.
  static func approvalCode() -> String {
    var generator = SystemRandomNumberGenerator()
    return String((0..<6).map { _ in Character(String(generator.next() % 10)) })
  }

  static func randomText(_ count: Int) -> String {
    let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
    var generator = SystemRandomNumberGenerator()
    return String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
  }
}
