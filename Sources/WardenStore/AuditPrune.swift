import WardenJSON

/// Pruning the audit trail: removing its oldest records while what remains stays verifiable.
///
/// A prune removes a prefix of the chain (its oldest records, 1 through k, or from the oldest one
/// left by an earlier prune). Before the records go, a record of kind `prune` is appended to the
/// chain naming the range and the hash of record k, the `prev` of the first record left. It is an
/// ordinary chained record, so it cannot be inserted or edited without breaking the chain after it
/// (or, for the newest record, disagreeing with the head file): `AuditChain.verify` then accepts a
/// chain that starts at k + 1 only when such a record accounts for the gap.
public enum AuditPrune {
  /// The `kind` of a prune record.
  public static let kind = "prune"

  /// What a prune removes: records `from` through `through`; `hash` is record `through`'s hash.
  public struct Plan: Sendable, Equatable {
    public var from: Int64
    public var through: Int64
    public var hash: String

    public init(from: Int64, through: Int64, hash: String) {
      self.from = from
      self.through = through
      self.hash = hash
    }

    public var count: Int64 { through - from + 1 }
  }

  /// The longest run of `rows` (a verified chain, oldest first) from the oldest whose records are
  /// all earlier than `before` (ms); nil when the oldest is not. It stops at the first record at or
  /// after `before` rather than taking every older one: records of different processes are not
  /// strictly in time order, and only a prefix can go without breaking the chain.
  public static func plan(_ rows: [AuditChain.Row], before: Int64) -> Plan? {
    var last: AuditChain.Row?
    for row in rows {
      guard let at = (try? JSONValue.parse(row.record))?["at"]?.integerValue, at < before,
        last.map({ row.seq == $0.seq + 1 }) ?? true
      else { break }
      last = row
    }
    guard let first = rows.first, let last else { return nil }
    return Plan(from: first.seq, through: last.seq, hash: last.hash)
  }

  /// The fields of the prune record for `plan`, appended (at `at`, ms) before its records go.
  /// `before` is the cutoff asked for; `by` the OS user who pruned; `attestation` how the command
  /// was run (`cli-terminal`, `cli-scripted`).
  public static func record(_ plan: Plan, before: Int64, at: Int64, by: String, attestation: String)
    -> JSONValue
  {
    .object([
      ("v", .integer(1)), ("kind", .string(kind)), ("at", .integer(at)), ("agent", .string("")),
      ("server", .string("")), ("call", .string("")), ("pruned_from", .integer(plan.from)),
      ("pruned_through", .integer(plan.through)), ("pruned_hash", .string(plan.hash)),
      ("before", .integer(before)), ("by", .string(by)), ("attestation", .string(attestation)),
    ])
  }

  /// What a prune record at `seq` says it removed.
  struct Claim: Equatable {
    var seq: Int64
    var from: Int64
    var through: Int64
    var hash: String
  }

  /// The claim of `value`, the record at `seq`: nil when it is not a prune record; a failure (what
  /// is wrong with it) when it is one that no prune could have written.
  static func claim(_ value: JSONValue, seq: Int64) -> Result<Claim, ClaimProblem>? {
    guard value["kind"]?.stringValue == kind else { return nil }
    guard let from = value["pruned_from"]?.integerValue, let through = value["pruned_through"]?.integerValue,
      let hash = value["pruned_hash"]?.stringValue
    else { return .failure(ClaimProblem("lacks pruned_from, pruned_through or pruned_hash")) }
    // A prune removes records that came before its own record, at least one of them.
    guard from >= 1, from <= through, through < seq else {
      return .failure(ClaimProblem("names records \(from) to \(through), which it cannot have removed"))
    }
    guard hash.utf8.count == 64,
      hash.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
    else { return .failure(ClaimProblem("has a pruned_hash that is not a hash")) }
    return .success(Claim(seq: seq, from: from, through: through, hash: hash))
  }

  struct ClaimProblem: Error, Equatable {
    var text: String
    init(_ text: String) { self.text = text }
  }

  /// How a chain whose first record is not record 1 starts.
  enum Start: Equatable {
    /// A prune record in the chain removed the records before it.
    case pruned(by: Claim)
    /// No prune record accounts for the gap: `missing` is the first record deleted without one
    /// (just after the last range an earlier prune removed, else record 1).
    case unaccounted(missing: Int64)
  }

  /// Finds the prune record that accounts for the records before `rows`' first (whose `seq` is
  /// above 1). Only a candidate: `verify` then checks the chain through it, so a prune record
  /// forged into the chain is caught there like any other insertion or edit.
  static func start(of rows: [AuditChain.Row]) -> Start {
    guard let first = rows.first else { return .unaccounted(missing: 1) }
    let claimedPrev = (try? JSONValue.parse(first.record))?["prev"]?.stringValue
    // Canonical text has no spaces, and inside a JSON string every quote is escaped: only a member
    // `"kind":"prune"` of some object contains this, so the other records are not parsed again.
    let marker = Array("\"kind\":\"\(kind)\"".utf8)
    var accounting: Claim?
    var lastRemovedBefore: Int64 = 0
    for row in rows where row.record.utf8.contains(marker) {
      guard let value = try? JSONValue.parse(row.record),
        case .success(let claim)? = Self.claim(value, seq: row.seq)
      else { continue }
      if claim.through == first.seq - 1 {
        // The latest that links to the first record; if none does, the latest, which `verify` then
        // reports as not followed by the first record.
        if accounting == nil || claim.hash == claimedPrev || accounting?.hash != claimedPrev {
          accounting = claim
        }
      } else if claim.through < first.seq - 1 {
        lastRemovedBefore = max(lastRemovedBefore, claim.through)
      }
    }
    if let accounting { return .pruned(by: accounting) }
    return .unaccounted(missing: lastRemovedBefore + 1)
  }
}
