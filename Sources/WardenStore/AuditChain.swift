import Crypto
import WardenCore
import WardenJSON

/// The audit trail as a hash chain: each record is canonical JSON (keys sorted, compact) holding its
/// own place `seq` and the hash `prev` of the record before it; its hash is SHA-256 of that text. So
/// editing, inserting, deleting or reordering a record breaks the chain at that record, and only
/// rewriting every record after it hides the change: against that, the head of the chain is also
/// appended to a file beside the store (`audit.head`), which a rewrite of the database does not touch.
/// Only the oldest records may go, through a prune that leaves a record saying so (`AuditPrune`).
public enum AuditChain {
  /// The `prev` of the first record.
  public static let genesis = String(repeating: "0", count: 64)

  /// The stored text of a record with these fields at `seq` after `prev`, and its hash.
  public static func link(_ fields: JSONValue, seq: Int64, prev: String) -> (text: String, hash: String) {
    let text = fields.setting("seq", to: .integer(seq)).setting("prev", to: .string(prev)).canonicalText()
    return (text, hash(text))
  }

  public static func hash(_ text: String) -> String {
    SHA256.hash(data: Array(text.utf8)).withUnsafeBytes { Hex.encode($0) }
  }

  /// One stored record.
  public struct Row: Sendable, Equatable {
    public var seq: Int64
    public var hash: String
    public var record: String

    public init(seq: Int64, hash: String, record: String) {
      self.seq = seq
      self.hash = hash
      self.record = record
    }
  }

  /// A line of the head file: the chain had this record with this hash.
  public struct Anchor: Sendable, Equatable {
    public var seq: Int64
    public var hash: String

    public init(seq: Int64, hash: String) {
      self.seq = seq
      self.hash = hash
    }
  }

  /// What `verify` found.
  public enum Verdict: Sendable, Equatable {
    /// The chain holds, from its first record to its last, and agrees with every anchor; `anchors`
    /// counts those checked (not those of pruned records).
    case holds(records: Int, anchors: Int)
    /// The first record found wrong, and how.
    case broken(seq: Int64, problem: String)
  }

  /// Checks `rows` (in `seq` order) link up from the genesis, each hash matches its text, each text
  /// is canonical and names its own place and predecessor, and every anchor names a record the chain
  /// has, with that hash.
  ///
  /// After a prune (`AuditPrune`) the chain starts above record 1: then a prune record in it must
  /// name the records before the first as removed, with the hash the first record follows, and the
  /// chain is checked from there; anchors of the removed records are not checked (they are gone).
  /// Every prune record must name a range it could have removed, and, while the records it names
  /// are still there (a prune interrupted before it deleted them), the hash of the last of them.
  public static func verify(_ rows: [Row], anchors: [Anchor]) -> Verdict {
    var prev = genesis
    var expected: Int64 = 1
    var prunedBy: AuditPrune.Claim?
    if let first = rows.first, first.seq > 1 {
      switch AuditPrune.start(of: rows) {
      case .pruned(let claim):
        prunedBy = claim
        prev = claim.hash
        expected = first.seq
      case .unaccounted(let missing):
        return .broken(
          seq: missing,
          problem:
            "record \(missing) is missing (deleted, and no prune record accounts for it), the chain goes on at \(first.seq)"
        )
      }
    }
    let prunedThrough = expected - 1
    var hashes: [Int64: String] = [:]
    for row in rows {
      guard row.seq == expected else {
        return row.seq > expected
          ? .broken(
            seq: expected, problem: "record \(expected) is missing (deleted), the chain goes on at \(row.seq)"
          )
          : .broken(seq: row.seq, problem: "record \(row.seq) is out of place (inserted or reordered)")
      }
      guard let value = try? JSONValue.parse(row.record), value.kind == .object else {
        return .broken(seq: row.seq, problem: "record \(row.seq) is not a JSON object (edited)")
      }
      guard hash(row.record) == row.hash else {
        return .broken(seq: row.seq, problem: "record \(row.seq) does not match its hash (edited)")
      }
      guard value.canonicalText() == row.record else {
        return .broken(seq: row.seq, problem: "record \(row.seq) is not in canonical form (edited)")
      }
      guard value["seq"]?.integerValue == row.seq else {
        return .broken(seq: row.seq, problem: "record \(row.seq) names another place in the chain (moved)")
      }
      guard value["prev"]?.stringValue == prev else {
        if let prunedBy, row.seq == prunedThrough + 1 {
          return .broken(
            seq: row.seq,
            problem:
              "record \(row.seq) does not follow record \(prunedThrough) as prune record \(prunedBy.seq) saw it (the prune record or this record was edited, or records were deleted without a prune)"
          )
        }
        return .broken(
          seq: row.seq,
          problem:
            "record \(row.seq) does not follow record \(row.seq - 1) (a record before it was edited, inserted, deleted or reordered)"
        )
      }
      if let problem = pruneProblem(value, seq: row.seq, hashes: hashes) {
        return .broken(seq: row.seq, problem: problem)
      }
      hashes[row.seq] = row.hash
      prev = row.hash
      expected += 1
    }
    var checked = 0
    for anchor in anchors.sorted(by: { $0.seq < $1.seq }) where anchor.seq > prunedThrough {
      guard let found = hashes[anchor.seq] else {
        return .broken(
          seq: expected,
          problem:
            "record \(expected) and those after it are missing: the head file saw record \(anchor.seq), but the chain ends at \(expected - 1) (the newest records were cut off)"
        )
      }
      guard found == anchor.hash else {
        return .broken(
          seq: anchor.seq,
          problem:
            "record \(anchor.seq) is not the one the head file saw (the chain was rewritten from there or before)"
        )
      }
      checked += 1
    }
    return .holds(records: rows.count, anchors: checked)
  }

  /// What is wrong with `value` as a prune record at `seq`, given the hashes of the records before it
  /// in the chain; nil when it is none or is right.
  private static func pruneProblem(_ value: JSONValue, seq: Int64, hashes: [Int64: String]) -> String? {
    switch AuditPrune.claim(value, seq: seq) {
    case nil: return nil
    case .failure(let problem)?:
      return "record \(seq) is a prune record that \(problem.text) (forged or edited)"
    case .success(let claim)?:
      // Its records are still here when the prune stopped before deleting them: it must have seen
      // the last of them as it is.
      if let kept = hashes[claim.through], kept != claim.hash {
        return
          "record \(seq) is a prune record of records \(claim.from) to \(claim.through), but record \(claim.through) does not have the hash it names (forged or edited)"
      }
      return nil
    }
  }

  /// Reads the head file's lines (`SEQ HASH`); a line that is not one is reported as a problem.
  public static func anchors(fromHeadFile text: String) -> Result<[Anchor], AuditHeadProblem> {
    var anchors: [Anchor] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
      let parts = line.split(separator: " ")
      guard parts.count == 2, let seq = Int64(parts[0]), seq > 0, parts[1].utf8.count == 64 else {
        return .failure(AuditHeadProblem(line: index + 1, text: String(line.prefix(80))))
      }
      anchors.append(Anchor(seq: seq, hash: String(parts[1])))
    }
    return .success(anchors)
  }
}

/// A line of the head file that is not `SEQ HASH`.
public struct AuditHeadProblem: Error, Sendable, Equatable {
  public var line: Int
  public var text: String
}
