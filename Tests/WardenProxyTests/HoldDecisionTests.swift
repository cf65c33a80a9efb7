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
    let keeper: HoldKeeper
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
      keeper = HoldKeeper(
        store: store, server: LockedWriter(descriptor: serverPipe[1]),
        client: LockedWriter(descriptor: clientPipe[1]), session: SharedSession(RelaySession(nonce: "n")),
        gate: ToolCallGate(engine: engine), logger: Logger(label: "test"), timeoutSeconds: timeoutSeconds)
    }

    func available(_ descriptor: Int32) -> [UInt8] {
      var buffer = [UInt8](repeating: 0, count: 65536)
      let count = read(descriptor, &buffer, buffer.count)
      return count > 0 ? Array(buffer[0..<count]) : []
    }
  }

  static let line = Array(
    #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete","arguments":{}}}"#.utf8)

  func holdOne(_ rig: Rig) throws -> HoldKeeper.Held {
    let params = Array(#"{"name":"delete","arguments":{}}"#.utf8)
    let call = ToolCall(server: "mail", agent: "a", tool: "delete", arguments: .object([]))
    let decision = Authorization(verdict: .confirm, reason: .ungranted, explanation: "no grant")
    let held = Self.line.withUnsafeBytes { line in
      params.withUnsafeBytes { params in
        rig.keeper.hold(
          requestID: .integer(1), line: line, params: params, call: call, decision: decision,
          perRequestEra: false)
      }
    }
    #expect(held)
    return try #require(rig.keeper.book.withLock { $0.held.first })
  }

  @Test func anApprovalPastTheDeadlineDoesNotForward() throws {
    let rig = try Rig(timeoutSeconds: 0.05)
    let entry = try holdOne(rig)
    usleep(100_000)  // the deadline passes
    let outcome = rig.keeper.finish(entry, as: .approved, by: "someone", channel: "elicitation", note: "late")
    #expect(outcome == .expired)
    #expect(rig.available(rig.serverRead).isEmpty)
    let answer = String(decoding: rig.available(rig.clientRead), as: UTF8.self)
    #expect(answer.contains("confirmation-timed-out"))
  }

  @Test func anApprovalTheStoreCannotRecordDoesNotForward() throws {
    let rig = try Rig(timeoutSeconds: 60)
    let entry = try holdOne(rig)
    // The store goes away under the hold: the decision cannot be recorded.
    for suffix in ["", "-wal", "-shm"] { unlink(rig.home + "/warden.db" + suffix) }
    chmod(rig.home, 0o500)
    defer { chmod(rig.home, 0o700) }
    // Not root: the decision cannot be written, and does not count. Root can still write the unlinked
    // file, but deciding again at approval finds the store gone: either way nothing is forwarded.
    let outcome = rig.keeper.finish(entry, as: .approved, by: "someone", channel: "elicitation", note: "ok")
    if geteuid() != 0 { #expect(outcome == .rejected) }
    #expect(rig.available(rig.serverRead).isEmpty)
    #expect(String(decoding: rig.available(rig.clientRead), as: UTF8.self).contains("store-unavailable"))
  }

  @Test func aRecordedApprovalForwardsTheLineOnce() throws {
    let rig = try Rig(timeoutSeconds: 60)
    let entry = try holdOne(rig)
    #expect(rig.keeper.finish(entry, as: .approved, by: "ann", channel: "cli", note: "") == .approved)
    #expect(rig.available(rig.serverRead) == Self.line + [0x0A])
    // A second decision on the same hold changes nothing.
    _ = rig.keeper.finish(entry, as: .approved, by: "ann", channel: "cli", note: "")
    #expect(rig.available(rig.serverRead).isEmpty)
  }
}
