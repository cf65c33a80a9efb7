// warden-bench-decision: the cost of one decision with many grants in force, and of the store
// checks around it. Run by bench/run.sh, or alone: warden-bench-decision [GRANTS] [ITERATIONS].
import WardenCore
import WardenJSON
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

func nanoseconds() -> UInt64 {
  var spec = timespec()
  clock_gettime(CLOCK_MONOTONIC, &spec)
  return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Median of `rounds` timings of `body`, each averaged over `batch` calls, in microseconds.
func medianMicroseconds(rounds: Int = 31, batch: Int, _ body: () -> Void) -> Double {
  var samples: [Double] = []
  for _ in 0..<rounds {
    let start = nanoseconds()
    for _ in 0..<batch { body() }
    samples.append(Double(nanoseconds() - start) / Double(batch) / 1000)
  }
  samples.sort()
  return samples[samples.count / 2]
}

let arguments = CommandLine.arguments

// `--populate HOME N`: fill an existing store with N grants for other agents and servers, so that a
// benchmark of `warden run` decides with that many in force.
if arguments.count == 4, arguments[1] == "--populate", let count = Int(arguments[3]) {
  let store = try GrantStore.open(home: arguments[2])
  var spec = timespec()
  clock_gettime(CLOCK_REALTIME, &spec)
  let now = Int64(spec.tv_sec) * 1000
  for index in 0..<count {
    try store.insert(
      Grant(
        id: "g_filler_\(index)", effect: .allow, actions: ["git.read"],
        resources: ["repo:/home/user\(index)/**"],
        agent: "agent-\(index % 500)", server: "fs-\(index % 50)", purpose: "filler", issuedBy: "bench",
        issuedAt: now - 1000, expiresAt: now + 7_200_000))
  }
  exit(0)
}

let grantCount = arguments.count > 1 ? Int(arguments[1]) ?? 10_000 : 10_000
let batch = arguments.count > 2 ? Int(arguments[2]) ?? 2_000 : 2_000

var template = Array("/tmp/warden-bench-XXXXXX".utf8CString)
guard let created = mkdtemp(&template) else { fatalError("mkdtemp failed") }
let home = String(cString: created) + "/home"
defer { _ = system("rm -rf '\(String(cString: created))'") }

let store = try GrantStore.open(home: home)
var now: Int64 = {
  var spec = timespec()
  clock_gettime(CLOCK_REALTIME, &spec)
  return Int64(spec.tv_sec) * 1000
}()

// The population: most grants belong to other agents and servers; a few to the one measured, as in
// a team where every agent has its own delegations.
var grants: [Grant] = []
for index in 0..<grantCount {
  let mine = index % 1000 == 0
  grants.append(
    Grant(
      id: "g_\(index)", effect: !mine && index % 97 == 0 ? .forbid : .allow,
      actions: mine ? ["git.read", "git.write"] : ["git.read"],
      resources: mine ? ["repo:/srv/app\(index)/**", "repo:/srv/app"] : ["repo:/home/user\(index)/**"],
      agent: mine ? "claude" : "agent-\(index % 500)", server: index % 3 == 0 ? "git" : "fs-\(index % 50)",
      purpose: "bench grant \(index)", issuedBy: "bench", issuedAt: now - 1000,
      expiresAt: !mine && index % 97 == 0 ? nil : now + 3_600_000))
}
let insertStart = nanoseconds()
for grant in grants { try store.insert(grant) }
let insertSeconds = Double(nanoseconds() - insertStart) / 1e9

let manifest = Manifest(
  server: "git",
  tools: [
    "git_status": ToolRule(action: "git.read", resources: [try ResourceTemplate("repo:{repo_path|path}")])
  ])
let call = ToolCall(
  server: "git", agent: "claude", tool: "git_status",
  arguments: .object([.init("repo_path", .string("/srv/app"))]))

let loadMicroseconds = medianMicroseconds(rounds: 5, batch: 1) { _ = try? store.liveGrants(now: now) }
let live = try store.liveGrants(now: now)
let compileMicroseconds = medianMicroseconds(rounds: 5, batch: 1) { _ = GrantSet(live) }
let set = GrantSet(live)
let tokenMicroseconds = medianMicroseconds(batch: batch) { _ = try? store.changeToken() }
var verdict = Authorization.Verdict.deny
let scopesMicroseconds = medianMicroseconds(batch: batch) { _ = manifest.scopes(for: call, annotations: nil) }
let decideMicroseconds = medianMicroseconds(batch: batch) {
  verdict =
    Authorizer.authorize(
      call: call, scopes: manifest.scopes(for: call, annotations: nil), grants: set, now: now
    ).verdict
}
guard verdict == .allow else { fatalError("the measured call should be allowed, got \(verdict)") }

// Worst case: every grant in force is for this server and agent.
let crowded =
  (0..<grantCount).map { index in
    Grant(
      id: "c_\(index)", effect: .allow, actions: ["git.read"], resources: ["repo:/other/\(index)"],
      agent: "claude",
      server: "git", purpose: "crowd", issuedBy: "bench", issuedAt: now - 1000, expiresAt: now + 3_600_000)
  } + [
    Grant(
      id: "c_last", effect: .allow, actions: ["git.read"], resources: ["repo:/srv/app"], agent: "claude",
      server: "git", purpose: "crowd", issuedBy: "bench", issuedAt: now - 1000, expiresAt: now + 3_600_000)
  ]
let crowdedSet = GrantSet(crowded)
let crowdedMicroseconds = medianMicroseconds(rounds: 11, batch: max(1, batch / 100)) {
  verdict =
    Authorizer.authorize(
      call: call, scopes: manifest.scopes(for: call, annotations: nil), grants: crowdedSet, now: now
    ).verdict
}

// The audit trail's parts, per record: building a decision record as `warden run` does, journaling
// it (one `write`), and appending it to the chain in batches of 100 (one transaction each).
let recordTime = now
let recordDigest = String(repeating: "ab", count: 32)
let recordCalls = (0..<100).map { "s0-\($0)" }
func auditRecord(_ n: Int) -> AuditRecord {
  let callID = recordCalls[n % 100]
  var fields = CanonicalObject()
  fields.set("action", "git.read")
  fields.set("agent", "claude")
  fields.set("arguments", #"{"repo_path":"/srv/app"}"#)
  fields.set("at", recordTime)
  fields.set("call", callID)
  fields.set("destructive", false)
  fields.set("digest", recordDigest)
  fields.set("explanation", "covered by g_0 (git.read on repo:/srv/app)")
  var link = CanonicalObject()
  link.set("chain", [String]())
  link.set("id", "g_0")
  link.set("issued_by", "bench")
  link.set("purpose", "bench grant 0")
  fields.set("grants", [link])
  fields.set("kind", "decision")
  fields.set("reason", "allowed")
  fields.set("resources", ["repo:/srv/app"])
  fields.set("server", "git")
  fields.set("session", "s0")
  fields.set("tool", "git_status")
  fields.set("v", Int64(1))
  fields.set("verdict", "allow")
  return AuditRecord(fields: fields, at: recordTime, kind: "decision", agent: "claude", server: "git", call: callID)
}
var built = 0
let recordMicroseconds = medianMicroseconds(batch: batch) { built &+= auditRecord(built).fields.bytes.count }
let linkMicroseconds = medianMicroseconds(batch: batch) {
  built &+= auditRecord(built).linked(seq: 7, prev: AuditChain.genesis).hash.utf8.count
}
let journal = try AuditJournal(home: home, session: "bench")
let sample = auditRecord(0)
let journalMicroseconds = medianMicroseconds(batch: batch) { _ = try? journal.append([sample]) }
let chainBatch = (0..<100).map(auditRecord)
let chainMicroseconds =
  medianMicroseconds(rounds: 11, batch: 5) { _ = try? store.appendAudit(chainBatch) } / 100

print(
  "{\"grants\":\(grantCount),\"insert_s\":\(insertSeconds),\"load_us\":\(loadMicroseconds),\"compile_us\":\(compileMicroseconds),\"token_us\":\(tokenMicroseconds),\"scopes_us\":\(scopesMicroseconds),\"decide_us\":\(decideMicroseconds),\"per_call_us\":\(tokenMicroseconds + decideMicroseconds),\"crowded_decide_us\":\(crowdedMicroseconds),\"record_us\":\(recordMicroseconds),\"record_linked_us\":\(linkMicroseconds),\"journal_us\":\(journalMicroseconds),\"chain_us\":\(chainMicroseconds)}"
)
