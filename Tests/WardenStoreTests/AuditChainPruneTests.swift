import Testing
import WardenCore
import WardenJSON
import WardenStore

/// Pruning the audit chain: what remains verifies, and a prune cannot be faked.
@Suite("The audit chain after a prune")
struct AuditChainPruneTests {
  typealias Row = AuditChain.Row

  /// Appends `fields` to `rows` as the next record.
  static func append(_ fields: JSONValue, to rows: inout [Row]) {
    let seq = (rows.last?.seq ?? 0) + 1
    let (text, hash) = AuditChain.link(fields, seq: seq, prev: rows.last?.hash ?? AuditChain.genesis)
    rows.append(Row(seq: seq, hash: hash, record: text))
  }

  /// A chain of decision records whose `at` is their `seq`.
  static func chain(_ count: Int) -> [Row] {
    var rows: [Row] = []
    for n in 1...count { append(AuditChainTests.record(n), to: &rows) }
    return rows
  }

  /// Prunes what is before `before` as `warden audit prune` does: the prune record appended, then the
  /// records gone (unless `crash`, which stops in between).
  static func prune(_ rows: inout [Row], before: Int64, crash: Bool = false) -> AuditPrune.Plan? {
    guard let plan = AuditPrune.plan(rows, before: before) else { return nil }
    append(
      AuditPrune.record(plan, before: before, at: 1_000, by: "alice", attestation: "cli-terminal"), to: &rows)
    if !crash { rows.removeAll { $0.seq >= plan.from && $0.seq <= plan.through } }
    return plan
  }

  static func anchors(_ rows: [Row]) -> [AuditChain.Anchor] {
    rows.map { AuditChain.Anchor(seq: $0.seq, hash: $0.hash) }
  }

  static func problem(_ rows: [Row], anchors: [AuditChain.Anchor] = []) -> (Int64, String)? {
    if case .broken(let seq, let problem) = AuditChain.verify(rows, anchors: anchors) {
      return (seq, problem)
    }
    return nil
  }

  /// Rewrites the record at `index` with `edit` applied to its fields, keeping its place and `prev`,
  /// and recomputes its hash (as an attacker would).
  static func rewrite(_ rows: inout [Row], at index: Int, _ edit: (JSONValue) -> JSONValue) throws {
    let fields = try JSONValue.parse(rows[index].record)
    let prev = fields["prev"]?.stringValue ?? ""
    let (text, hash) = AuditChain.link(
      edit(fields.removing("seq").removing("prev")), seq: rows[index].seq, prev: prev)
    rows[index] = Row(seq: rows[index].seq, hash: hash, record: text)
  }

  @Test func thePlanIsTheLongestPrefixOlderThanTheCutoff() {
    var rows = Self.chain(6)
    #expect(AuditPrune.plan(rows, before: 4) == AuditPrune.Plan(from: 1, through: 3, hash: rows[2].hash))
    #expect(AuditPrune.plan(rows, before: 1) == nil)
    #expect(AuditPrune.plan(rows, before: 100)?.through == 6)
    // Records of different processes are not strictly in time order: it stops at the first at or
    // after the cutoff, even when an older one follows.
    rows = []
    for at in [1, 2, 9, 3, 4] { Self.append(AuditChainTests.record(at), to: &rows) }
    #expect(AuditPrune.plan(rows, before: 5)?.through == 2)
  }

  @Test func whatRemainsAfterAPruneVerifiesWithTheHeadFile() throws {
    var rows = Self.chain(10)
    var heads = Self.anchors(rows)
    let plan = try #require(Self.prune(&rows, before: 6))
    #expect(plan == AuditPrune.Plan(from: 1, through: 5, hash: Self.chain(10)[4].hash))
    heads += Self.anchors([rows.last!])
    #expect(rows.map(\.seq) == Array(6...11))
    let record = try JSONValue.parse(rows.last!.record)
    #expect(record["kind"]?.stringValue == "prune" && record["pruned_hash"]?.stringValue == plan.hash)
    #expect(record["agent"]?.stringValue == "" && record["before"]?.integerValue == 6)
    // The heads of records 1 to 5 are not checked (those records are gone); the others are.
    #expect(AuditChain.verify(rows, anchors: heads) == .holds(records: 6, anchors: 6))
  }

  @Test func aPrefixDeletedWithoutAPruneRecordIsNamed() throws {
    let rows = Array(Self.chain(10).dropFirst(4))
    let (seq, problem) = try #require(Self.problem(rows))
    #expect(seq == 1 && problem.contains("no prune record"))
    // Deleting more than a prune removed: the first record deleted without one is named.
    var pruned = Self.chain(10)
    _ = Self.prune(&pruned, before: 4)
    pruned.removeAll { $0.seq <= 6 }
    let (after, _) = try #require(Self.problem(pruned))
    #expect(after == 4)
  }

  @Test func recordsDeletedAfterThePrunePointAreStillCaught() throws {
    var rows = Self.chain(10)
    _ = Self.prune(&rows, before: 4)
    rows.removeAll { $0.seq == 7 }
    #expect(try #require(Self.problem(rows)).0 == 7)
  }

  @Test func aForgedOrEditedPruneRecordIsCaught() throws {
    // A prune record edited: its hash no longer matches; rehashed, the record after it no longer
    // follows it.
    var edited = Self.chain(10)
    _ = Self.prune(&edited, before: 4)
    Self.append(AuditChainTests.record(20), to: &edited)
    let pruneIndex = edited.count - 2
    let original = edited
    edited[pruneIndex].record = edited[pruneIndex].record.replacing(
      "\"by\":\"alice\"", with: "\"by\":\"bob\"")
    #expect(try #require(Self.problem(edited)).0 == 11)
    try Self.rewrite(&edited, at: pruneIndex) { $0.setting("by", to: .string("bob")) }
    #expect(try #require(Self.problem(edited)).0 == 12)
    // Edited to claim more records than were pruned: it no longer accounts for the gap it left, and
    // naming records still there with a hash they do not have is caught at the record itself.
    edited = original
    try Self.rewrite(&edited, at: pruneIndex) { $0.setting("pruned_through", to: .integer(5)) }
    #expect(try #require(Self.problem(edited)).1.contains("no prune record accounts for it"))
    edited = Self.chain(10)
    _ = Self.prune(&edited, before: 4, crash: true)
    try Self.rewrite(&edited, at: 10) { $0.setting("pruned_through", to: .integer(5)) }
    #expect(try #require(Self.problem(edited)).0 == 11)

    // A decision record turned into a prune record for records deleted behind it, rehashed: the
    // record after it does not follow, and the head file saw the original as the newest record.
    var forged = Self.chain(10)
    let heads = Self.anchors(forged)
    let hashOf5 = forged[4].hash
    try Self.rewrite(&forged, at: 8) { _ in
      AuditPrune.record(
        AuditPrune.Plan(from: 1, through: 5, hash: hashOf5), before: 6, at: 9, by: "agent",
        attestation: "cli-scripted")
    }
    forged.removeAll { $0.seq <= 5 }
    #expect(try #require(Self.problem(forged)).0 == 10)
    forged.removeLast()
    #expect(try #require(Self.problem(forged, anchors: heads)).0 == 9)

    // A prune record inserted in the middle of the chain breaks it where it goes.
    var inserted = Self.chain(10)
    var fake: [Row] = Array(inserted.prefix(6))
    Self.append(
      AuditPrune.record(
        AuditPrune.Plan(from: 1, through: 5, hash: inserted[4].hash), before: 6, at: 7, by: "x",
        attestation: "x"),
      to: &fake)
    inserted = fake + inserted.dropFirst(6).map { Row(seq: $0.seq + 1, hash: $0.hash, record: $0.record) }
    inserted.removeAll { $0.seq <= 5 }
    #expect(try #require(Self.problem(inserted)).0 == 8)
  }

  @Test func aPruneRecordMustNameARangeItCouldHaveRemoved() throws {
    var rows = Self.chain(4)
    Self.append(
      AuditPrune.record(
        AuditPrune.Plan(from: 3, through: 7, hash: rows[2].hash), before: 9, at: 9, by: "x", attestation: "x"),
      to: &rows)
    let (seq, problem) = try #require(Self.problem(rows))
    #expect(seq == 5 && problem.contains("cannot have removed"))
  }

  @Test func twoSuccessivePrunesVerifyEvenWhenTheFirstPruneRecordWasPruned() throws {
    var rows = Self.chain(10)
    var heads = Self.anchors(rows)
    _ = Self.prune(&rows, before: 6)  // 1-5 go; the prune record is 11 (at 1000)
    heads += Self.anchors([rows.last!])
    for n in 12...15 { Self.append(AuditChainTests.record(2_000 + n), to: &rows) }
    heads += Self.anchors(Array(rows.suffix(4)))
    let second = try #require(Self.prune(&rows, before: 2_013))  // 6-12, with the first prune record
    #expect(second.from == 6 && second.through == 12)
    heads += Self.anchors([rows.last!])
    #expect(rows.map(\.seq) == Array(13...16))
    #expect(AuditChain.verify(rows, anchors: heads) == .holds(records: 4, anchors: 4))
  }

  @Test func headsBelowThePrunePointAreIgnoredAndThoseAboveItChecked() throws {
    var rows = Self.chain(10)
    _ = Self.prune(&rows, before: 6)
    var heads = [AuditChain.Anchor(seq: 3, hash: String(repeating: "a", count: 64))]
    #expect(AuditChain.verify(rows, anchors: heads) == .holds(records: 6, anchors: 0))
    heads.append(AuditChain.Anchor(seq: 8, hash: String(repeating: "b", count: 64)))
    #expect(try #require(Self.problem(rows, anchors: heads)).0 == 8)
    // A head beyond the chain's end: the newest records were cut off.
    heads = [AuditChain.Anchor(seq: 14, hash: String(repeating: "c", count: 64))]
    #expect(try #require(Self.problem(rows, anchors: heads)).0 == 12)
  }

  @Test func aCrashBetweenThePruneRecordAndTheDeleteLeavesATrailThatHolds() throws {
    var rows = Self.chain(10)
    let heads = Self.anchors(rows)
    _ = Self.prune(&rows, before: 6, crash: true)
    #expect(AuditChain.verify(rows, anchors: heads) == .holds(records: 11, anchors: 10))
    // Its pruned_hash must be the hash of the last record it names while that record is there.
    var wrong = Self.chain(10)
    Self.append(
      AuditPrune.record(
        AuditPrune.Plan(from: 1, through: 5, hash: wrong[3].hash), before: 6, at: 9, by: "x", attestation: "x"
      ),
      to: &wrong)
    let (seq, problem) = try #require(Self.problem(wrong))
    #expect(seq == 11 && problem.contains("record 5 does not have the hash"))
  }

  @Test(arguments: Backend.all) func theStorePrunesAndWhatRemainsVerifies(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.appendAudit((1...6).map(AuditChainTests.record))
      // A prune interrupted after its record: the records and the record, and the trail holds.
      var (rows, _) = try store.auditChainForVerification()
      let interrupted = try #require(AuditPrune.plan(rows, before: 3))
      try store.appendAudit([
        AuditPrune.record(interrupted, before: 3, at: 7, by: "alice", attestation: "cli-terminal")
      ])
      try expectHolds(store, records: 7)

      (rows, _) = try store.auditChainForVerification()
      let plan = try #require(AuditPrune.plan(rows, before: 5))
      let seq = try store.pruneAudit(
        plan, record: AuditPrune.record(plan, before: 5, at: 8, by: "alice", attestation: "cli-terminal"))
      #expect(seq == 8)
      #expect(try store.auditRecords().map(\.seq) == [5, 6, 7, 8])
      try expectHolds(store, records: 4)
      // New records go on after the prune record.
      try store.appendAudit([AuditChainTests.record(9)])
      (rows, _) = try store.auditChainForVerification()
      let again = try #require(AuditPrune.plan(rows, before: 8))
      #expect(again.from == 5 && again.through == 7)
      _ = try store.pruneAudit(
        again, record: AuditPrune.record(again, before: 8, at: 10, by: "alice", attestation: "cli-terminal"))
      #expect(try store.auditRecords().map(\.seq) == [8, 9, 10])
      try expectHolds(store, records: 3)
    }
  }

  @Test(arguments: Backend.all) func theStoreRefusesToDeleteRecordsThatChangedSinceThePlan(_ backend: Backend)
    throws
  {
    try withStore(backend) { (store, fixture) throws in
      try store.appendAudit((1...4).map(AuditChainTests.record))
      let (rows, _) = try store.auditChainForVerification()
      var plan = try #require(AuditPrune.plan(rows, before: 3))
      plan.hash = String(repeating: "0", count: 64)
      do throws(AuditPruneError) {
        _ = try store.pruneAudit(
          plan, record: AuditPrune.record(plan, before: 3, at: 5, by: "alice", attestation: "cli-terminal"))
        Issue.record("the prune went on")
      } catch {
        #expect(error.pruneRecord == 5)
      }
      // Nothing deleted; the prune record (whose hash is wrong) is reported by verify.
      let (after, heads) = try store.auditChainForVerification()
      #expect(after.count == 5)
      let anchors = try heads.get()
      guard case .broken(let seq, _) = AuditChain.verify(after, anchors: anchors) else {
        Issue.record("a prune record naming a wrong hash was accepted")
        return
      }
      #expect(seq == 5)
    }
  }

  func expectHolds(
    _ store: any DelegationStore, records: Int, sourceLocation: SourceLocation = #_sourceLocation
  )
    throws
  {
    let (rows, heads) = try store.auditChainForVerification()
    guard case .holds(let count, _) = AuditChain.verify(rows, anchors: try heads.get()) else {
      Issue.record(
        "the trail does not hold: \(AuditChain.verify(rows, anchors: (try? heads.get()) ?? []))",
        sourceLocation: sourceLocation)
      return
    }
    #expect(count == records, sourceLocation: sourceLocation)
  }
}
