import GRDB

extension GrantStore {
  /// Revokes the given grants and forbids and, transitively, every descendant (a grant whose parent,
  /// grandparent... is among them); returns the ids newly revoked, ordered by `issuedAt` then `id`
  /// (ones already revoked are not returned). An unknown id throws `.notFound` and changes nothing.
  public func revoke(ids: [String], by: String, at: Int64) throws(StoreError) -> [String] {
    try guarded("cannot revoke grants in \(databasePath)") {
      try pool.write { db in
        let requested = StringArrayJSON.encode(ids)
        let unknown = try String.fetchAll(
          db.cachedStatement(
            sql: "SELECT DISTINCT value FROM json_each(?)"
              + " WHERE value NOT IN (SELECT id FROM grants) ORDER BY value"),
          arguments: [requested])
        if !unknown.isEmpty {
          throw StoreError(.notFound, "no grant with id \(unknown.joined(separator: ", "))")
        }
        return try Self.revokeTrees(
          db, rootsSQL: "SELECT value FROM json_each(?)", [requested], by: by, at: at)
      }
    }
  }

  /// Revokes every grant and forbid live at `at` whose `agent` is exactly `agent` (the glob's text, not
  /// what it matches), and their descendants; returns the ids newly revoked.
  public func revoke(agent: String, by: String, at: Int64) throws(StoreError) -> [String] {
    try guarded("cannot revoke grants in \(databasePath)") {
      try pool.write { db in
        try Self.revokeTrees(
          db,
          rootsSQL: "SELECT id FROM grants WHERE agent = ? AND revoked_at IS NULL"
            + " AND (expires_at IS NULL OR expires_at > ?)",
          [agent, at], by: by, at: at)
      }
    }
  }

  /// The kill switch: revokes every grant and forbid not yet revoked, expired ones included; returns
  /// the ids newly revoked.
  public func revokeAll(by: String, at: Int64) throws(StoreError) -> [String] {
    try guarded("cannot revoke grants in \(databasePath)") {
      try pool.write { db in
        try Self.revokeTrees(
          db, rootsSQL: "SELECT id FROM grants WHERE revoked_at IS NULL", [], by: by, at: at)
      }
    }
  }

  /// Revokes the unrevoked grants among the roots `rootsSQL` selects and all their descendants. The
  /// descent goes through grants revoked earlier too, so a child left live under a revoked parent is
  /// caught rather than kept. Runs inside the caller's transaction.
  private static func revokeTrees(
    _ db: Database, rootsSQL: String, _ arguments: StatementArguments, by: String, at: Int64
  ) throws -> [String] {
    let ids = try String.fetchAll(
      db,
      sql: """
        WITH RECURSIVE tree(id) AS (
          \(rootsSQL)
          UNION
          SELECT grants.id FROM grants JOIN tree ON grants.parent_id = tree.id
        )
        SELECT grants.id FROM grants JOIN tree ON grants.id = tree.id
        WHERE grants.revoked_at IS NULL ORDER BY grants.issued_at, grants.id
        """,
      arguments: arguments)
    if ids.isEmpty { return [] }
    try db.execute(
      sql: "UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id IN (SELECT value FROM json_each(?))",
      arguments: [at, by, StringArrayJSON.encode(ids)])
    return ids
  }
}
