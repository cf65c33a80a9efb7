import Glibc
import Logging
import Synchronization
import Testing
import WardenCore
import WardenJSON
import WardenStore

@testable import WardenProxy

/// Finding: an approval that did not count still forwarded the call. A keeper with a real store and
/// real pipes: an approval the store refuses (past the deadline) must not reach the server, and the
/// client gets a denial instead.
@Suite("Only a recorded approval forwards")
struct HoldDecisionTests {
  final class Rig: @unchecked Sendable {
    let executor: CallExecutor
    let serverRead: Int32
    let clientRead: Int32
    let home: String

    init(timeoutSeconds: Double) throws {
      var template = Array("/tmp/warden-holds-XXXXXX".utf8CString)
      let base = try #require(mkdtemp(&template))
      home = String(cString: base) + "/home"
      let store = try GrantStore.open(home: home)
      var serverPipe: [Int32] = [0, 0]
      var clientPipe: [Int32] = [0, 0]
      _ = pipe(&serverPipe)
      _ = pipe(&clientPipe)
      serverRead = serverPipe[0]
      clientRead = clientPipe[0]
      for descriptor in [serverRead, clientRead] { _ = fcntl(descriptor, F_SETFL, O_NONBLOCK) }
      let manifest = Manifest(
        server: "mail", tools: ["delete": ToolRule(action: "mail.delete", destructive: true)])
      let engine = PolicyEngine(
        configuration: PolicyConfiguration(
          manifest: manifest, serverName: "mail", store: .success(store), protectedPaths: [],
          hideUndelegated: false, ungrantedConfirm: true),
        logger: Logger(label: "test"))
      let session = SharedSession(
        CallMachine(
          session: RelaySession(nonce: "n"),
          rules: CallMachine.Rules(holdsAvailable: true, timeoutMilliseconds: Int64(timeoutSeconds * 1000))))
      // A handshake-era client that can show a form: each hold is asked about there.
      session.withLock {
        $0.noteElicitationSupport(true)
        $0.noteClient(name: "client", protocolVersion: "2025-06-18", perRequest: false)
      }
      executor = CallExecutor(
        session: session, store: store, server: LockedWriter(descriptor: serverPipe[1]),
        client: LockedWriter(descriptor: clientPipe[1]), gate: ToolCallGate(engine: engine),
        logger: Logger(label: "test"))
    }

    func available(_ descriptor: Int32) -> [UInt8] {
      var buffer = [UInt8](repeating: 0, count: 65536)
      let count = read(descriptor, &buffer, buffer.count)
      return count > 0 ? Array(buffer[0..<count]) : []
    }
  }

  static let line = Array(
    #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete","arguments":{}}}"#.utf8)

  /// Holds one call; returns the question asked about it in the client and its approval code.
  func holdOne(_ rig: Rig) throws -> (question: RequestID, code: String) {
    let params = Array(#"{"name":"delete","arguments":{}}"#.utf8)
    let call = ToolCall(server: "mail", agent: "a", tool: "delete", arguments: .object([]))
    let decision = Authorization(verdict: .confirm, reason: .ungranted, explanation: "no grant")
    let passed = rig.executor.handle(
      .call(
        CallMachine.DecidedCall(
          requestID: .integer(1), line: Self.line, params: params, call: call, decision: decision,
          perRequestEra: false)))
    #expect(!passed)
    let entry = try #require(rig.executor.session.withMachine { $0.book.held.first })
    _ = rig.available(rig.clientRead)  // the question
    return (try #require(entry.question), try #require(entry.hold.approvalCode))
  }

  /// The client's user approves in the form, with the right code.
  func approve(_ rig: Rig, _ asked: (question: RequestID, code: String)) {
    let answer = #"{"action":"accept","content":{"decision":"approve","code":"\#(asked.code)"}}"#
    rig.executor.handle(.questionAnswered(asked.question, answer: .result(Array(answer.utf8))))
  }

  @Test func anApprovalPastTheDeadlineDoesNotForward() throws {
    let rig = try Rig(timeoutSeconds: 0.05)
    let asked = try holdOne(rig)
    usleep(100_000)  // the deadline passes
    approve(rig, asked)
    #expect(rig.available(rig.serverRead).isEmpty)
    let answer = String(decoding: rig.available(rig.clientRead), as: UTF8.self)
    #expect(answer.contains("confirmation-timed-out"))
  }

  @Test func anApprovalTheStoreCannotRecordDoesNotForward() throws {
    let rig = try Rig(timeoutSeconds: 60)
    let asked = try holdOne(rig)
    // The store goes away under the hold: the decision cannot be recorded.
    for suffix in ["", "-wal", "-shm"] { unlink(rig.home + "/warden.db" + suffix) }
    chmod(rig.home, 0o500)
    defer { chmod(rig.home, 0o700) }
    // Not root: the decision cannot be written, and does not count. Root can still write the unlinked
    // file, but deciding again at approval finds the store gone: either way nothing is forwarded.
    approve(rig, asked)
    #expect(rig.available(rig.serverRead).isEmpty)
    #expect(String(decoding: rig.available(rig.clientRead), as: UTF8.self).contains("store-unavailable"))
  }

  @Test func aRecordedApprovalForwardsTheLineOnce() throws {
    let rig = try Rig(timeoutSeconds: 60)
    let asked = try holdOne(rig)
    approve(rig, asked)
    #expect(rig.available(rig.serverRead) == Self.line + [0x0A])
    // A second answer, and a poll of the store, change nothing.
    approve(rig, asked)
    rig.executor.handle(.tick(now: PolicyEngine.now()))
    #expect(rig.available(rig.serverRead).isEmpty)
  }
}
