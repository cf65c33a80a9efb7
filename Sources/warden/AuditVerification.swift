import WardenCore
import WardenStore

/// `warden audit verify`'s check, which `warden audit prune` makes too before removing anything.
enum AuditVerification {
  /// A trail that holds.
  struct Held {
    /// The whole chain, oldest first.
    var rows: [AuditChain.Row]
    /// The head file's lines checked, and those skipped because their records were pruned.
    var anchorsChecked: Int
    var anchorsOfPruned: Int

    /// One line for the human.
    var summary: String {
      var text = "the audit trail holds: \(rows.count) records"
      if let first = rows.first, first.seq > 1 {
        text += " (\(first.seq) to \(rows.last?.seq ?? first.seq); 1 to \(first.seq - 1) pruned)"
      }
      text += ", \(anchorsChecked) heads checked"
      if anchorsOfPruned > 0 { text += " (\(anchorsOfPruned) of pruned records not checked)" }
      return text
    }
  }

  /// Reads the chain and the head file, and checks them. Throws a `CommandFailure` with status 1
  /// when the trail does not hold (naming the first bad record), 2 when it could not be checked.
  static func check(_ store: any DelegationStore) throws -> Held {
    let rows: [AuditChain.Row]
    let anchors: Result<[AuditChain.Anchor], AuditHeadProblem>
    do { (rows, anchors) = try store.auditChainForVerification() } catch {
      throw CommandFailure("warden: cannot read the audit trail: \(error)", status: 2)
    }
    let found: [AuditChain.Anchor]
    switch anchors {
    case .success(let list): found = list
    case .failure(let problem):
      throw CommandFailure(
        "warden: line \(problem.line) of \(store.auditHeadPath) is not `SEQ HASH`: \(HumanText.escaped(problem.text)) (the head file was edited)",
        status: 1)
    }
    switch AuditChain.verify(rows, anchors: found) {
    case .holds(_, let checked):
      return Held(rows: rows, anchorsChecked: checked, anchorsOfPruned: found.count - checked)
    case .broken(_, let problem):
      throw CommandFailure("warden: the audit trail does not hold: \(problem)", status: 1)
    }
  }
}
