// warden-bench-store: what the store costs a running warden, on SQLite and on PostgreSQL side by side.
//
//   warden-bench-store HOME [POSTGRES_URL]
//
// HOME: an empty directory for the SQLite store and the anchors. POSTGRES_URL (no password; the
// password from WARDEN_STORE_PASSWORD_FILE or PGPASSWORD): a migrated, empty PostgreSQL store. Prints
// one Markdown table: per-call costs (median of rounds), and how long a revocation by one store
// instance takes to reach another's change token.
import WardenCore
import WardenJSON
import WardenPostgres
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
func medianMicroseconds(rounds: Int = 15, batch: Int, _ body: () throws -> Void) rethrows -> Double {
  var samples: [Double] = []
  for _ in 0..<rounds {
    let start = nanoseconds()
    for _ in 0..<batch { try body() }
    samples.append(Double(nanoseconds() - start) / Double(batch) / 1000)
  }
  samples.sort()
  return samples[samples.count / 2]
}

func grant(_ id: String, server: String) -> Grant {
  Grant(
    id: id, effect: .allow, actions: ["git.read"], resources: ["repo:/srv/\(id)"], agent: "agent-\(id)",
    server: server, purpose: "bench", issuedBy: "bench", issuedAt: 1, expiresAt: Int64.max / 2)
}

func record(_ n: Int) -> AuditRecord {
  var fields = CanonicalObject()
  fields.set("v", Int64(1))
  fields.set("kind", "decision")
  fields.set("at", Int64(n))
  fields.set("agent", "bench")
  fields.set("server", "git")
  fields.set("call", "c-\(n)")
  fields.set("verdict", "allow")
  return AuditRecord(
    fields: fields, at: Int64(n), kind: "decision", agent: "bench", server: "git", call: "c-\(n)")
}

struct Figures {
  var name: String
  var token: Double
  var tokenUncached: Double?
  var live: Double
  var append: Double
  var hold: Double
  var propagation: [Double]
}

func measure(_ name: String, _ open: () throws -> any DelegationStore) throws -> Figures {
  let store = try open()
  let other = try open()
  for index in 0..<1000 { try store.insert(grant("g_\(index)", server: index % 10 == 0 ? "git" : "other")) }
  _ = try store.changeToken()
  _ = try store.changeToken()  // the second read starts the listener
  usleep(100_000)
  let token = try medianMicroseconds(batch: 2000) { _ = try store.changeToken() }
  var uncached: Double?
  if let postgres = store as? PostgresStore {
    postgres.dropChangeListener()
    usleep(100_000)
    uncached = try medianMicroseconds(batch: 200) { _ = try store.changeToken() }
  }
  let live = try medianMicroseconds(batch: 20) { _ = try store.liveGrants(now: 2, server: "git") }
  var n = 0
  let append = try medianMicroseconds(batch: 50) {
    n += 1
    try store.appendAudit([record(n)])
  }
  var h = 0
  let hold = try medianMicroseconds(batch: 20) {
    h += 1
    let id = "h_\(h)"
    try store.createHold(
      Hold(
        id: id, server: "git", agent: "bench", tool: "git_reset", arguments: "{}", digest: "d",
        action: "git.reset",
        resources: [], reason: "destructive", explanation: "bench", grantID: nil, purpose: nil, holderPID: 1,
        createdAt: 1, deadline: Int64.max / 2))
    try store.decide(holdID: id, state: .approved, by: "bench", channel: "terminal", note: nil, at: 2)
  }
  // A revocation by one instance, seen by the other's change token: milliseconds.
  let watcher = try open()
  var propagation: [Double] = []
  for round in 0..<15 {
    try other.insert(grant("p_\(round)", server: "git"))
    let before = try waitForMove(watcher, from: nil)
    let start = nanoseconds()
    _ = try other.revoke(ids: ["p_\(round)"], by: "bench", at: 3)
    _ = try waitForMove(watcher, from: before)
    propagation.append(Double(nanoseconds() - start) / 1_000_000)
  }
  propagation.sort()
  return Figures(
    name: name, token: token, tokenUncached: uncached, live: live, append: append, hold: hold,
    propagation: propagation)
}

/// The watcher's token once it differs from `before` (at once when nil), polled every 0.1 ms.
func waitForMove(_ store: any DelegationStore, from before: Int64?) throws -> Int64 {
  let deadline = nanoseconds() + 5_000_000_000
  while true {
    let token = try store.changeToken()
    if token != before || before == nil { return token }
    guard nanoseconds() < deadline else { return token }
    usleep(100)
  }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
  print("usage: warden-bench-store HOME [POSTGRES_URL]")
  exit(64)
}
var environment: [String: String] = [:]
var cursor = environ
while let entry = cursor.pointee {
  let text = String(cString: entry)
  if let equals = text.firstIndex(of: "=") {
    environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
  }
  cursor += 1
}
var results = [try measure("SQLite") { try GrantStore.open(home: arguments[1] + "/sqlite") }]
if arguments.count >= 3 {
  let url = try PostgresURL.parse(arguments[2])
  let password = try PostgresPassword.resolve(environment: environment)
  results.append(
    try measure("PostgreSQL") {
      try PostgresStore.open(url: url, password: password, home: arguments[1] + "/postgres")
    })
}
print("| per call | " + results.map(\.name).joined(separator: " | ") + " |")
print("|---|" + results.map { _ in "---:|" }.joined())
func row(_ label: String, _ values: [String]) {
  print("| \(label) | " + values.joined(separator: " | ") + " |")
}
/// `value` with two decimals.
func fixed(_ value: Double) -> String {
  let hundredths = Int((value * 100).rounded())
  let fraction = hundredths % 100
  return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
func us(_ value: Double) -> String { value < 10 ? "\(fixed(value)) us" : "\(Int(value.rounded())) us" }
row("change token (before every call)", results.map { us($0.token) })
row(
  "change token, no listener (every call reads the database)", results.map { $0.tokenUncached.map(us) ?? "-" }
)
row("live grants for one server (100 of 1,000)", results.map { us($0.live) })
row("append one audit record (one transaction)", results.map { us($0.append) })
row("record a hold and decide it", results.map { us($0.hold) })
row(
  "revocation seen by another instance, median / max",
  results.map {
    "\(fixed($0.propagation[$0.propagation.count / 2])) / \(fixed($0.propagation.last ?? 0)) ms"
  })
