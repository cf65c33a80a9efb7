import GRDB

/// The store's schema, built by named migrations. A database that has a migration this build does not
/// know was written by a newer warden and is refused (see `GrantStore.open`).
enum Schema {
  static let migrator: DatabaseMigrator = {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1-grants") { db in
      for statement in v1 { try db.execute(sql: statement) }
    }
    // v2: a running warden loads only the grants for its server (and those with a server pattern).
    migrator.registerMigration("v2-grants-by-server") { db in
      try db.execute(sql: "CREATE INDEX grants_by_server ON grants(server)")
    }
    migrator.registerMigration("v3-holds") { db in
      for statement in v3 { try db.execute(sql: statement) }
    }
    // v4: the code a human types to approve in the client's form, and how each decision was attested.
    migrator.registerMigration("v4-hold-attestation") { db in
      try db.execute(sql: "ALTER TABLE holds ADD COLUMN approval_code TEXT")
      try db.execute(sql: "ALTER TABLE holds ADD COLUMN attestation TEXT")
      try db.execute(sql: "ALTER TABLE grants ADD COLUMN attestation TEXT")
    }
    migrator.registerMigration("v5-audit") { db in
      for statement in v5 { try db.execute(sql: statement) }
    }
    // v6: how far each running session's audit journal is in the chain (see `AuditJournal`); the
    // index by call went unused and cost every append.
    migrator.registerMigration("v6-audit-journal") { db in
      try db.execute(sql: "DROP INDEX audit_by_call")
      try db.execute(
        sql: """
          CREATE TABLE audit_journal (
            session TEXT NOT NULL PRIMARY KEY,
            committed INTEGER NOT NULL
          ) STRICT
          """)
      for statement in breakers { try db.execute(sql: statement) }
    }
    migrator.registerMigration("v7-grant-reviewed") { db in
      for statement in v7 { try db.execute(sql: statement) }
    }
    migrator.registerMigration("v8-tool-pins") { db in
      for statement in v8 { try db.execute(sql: statement) }
    }
    return migrator
  }()

  /// v5: the audit trail, a hash chain of records (see `AuditChain`).
  ///
  /// ```
  /// audit             one row per record, appended, never changed (triggers)
  ///   seq             INTEGER PK: the record's place in the chain, from 1, no gaps
  ///   hash            SHA-256 (hex) of `record`
  ///   record          the record as canonical JSON; holds its own `seq` and the `prev` hash
  ///   at, kind, agent, server, call_id   copies of record fields, for lookups only
  /// audit_key         one row: the secret that keys the argument digests of the records
  /// ```
  static let v5 = [
    """
    CREATE TABLE audit (
      seq INTEGER NOT NULL PRIMARY KEY,
      hash TEXT NOT NULL,
      record TEXT NOT NULL,
      at INTEGER NOT NULL,
      kind TEXT NOT NULL,
      agent TEXT NOT NULL,
      server TEXT NOT NULL,
      call_id TEXT NOT NULL
    ) STRICT
    """,
    "CREATE INDEX audit_by_time ON audit(at)",
    "CREATE INDEX audit_by_call ON audit(call_id)",
    """
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit records are never changed'); END
    """,
    """
    CREATE TABLE audit_key (
      id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
      secret TEXT NOT NULL
    ) STRICT
    """,
    "INSERT INTO audit_key (id, secret) VALUES (1, lower(hex(randomblob(32))))",
  ]

  /// v6: tripped circuit breakers, one row per agent; a trip or a reset moves the change generation,
  /// so every running warden sees it before its next call.
  static let breakers = [
    """
    CREATE TABLE breaker_trips (
      agent TEXT NOT NULL PRIMARY KEY,
      tripped_at INTEGER NOT NULL,
      reason TEXT NOT NULL,
      effect TEXT NOT NULL CHECK (effect IN ('deny', 'hold')),
      session TEXT NOT NULL
    ) STRICT
    """,
    """
    CREATE TRIGGER breaker_trips_insert_generation AFTER INSERT ON breaker_trips
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
    """
    CREATE TRIGGER breaker_trips_delete_generation AFTER DELETE ON breaker_trips
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
  ]

  /// v7: the exact resources a human reviewed when issuing a grant (`warden grant --reviewed`): a
  /// JSON array of strings, empty for every grant issued before it; immutable like the rest of a
  /// grant.
  static let v7 = [
    """
    ALTER TABLE grants ADD COLUMN reviewed TEXT NOT NULL DEFAULT '[]' CONSTRAINT reviewed_array
      CHECK (json_valid(reviewed) AND json_type(reviewed) = 'array')
    """,
    """
    CREATE TRIGGER grants_reviewed_immutable BEFORE UPDATE OF reviewed ON grants
    BEGIN SELECT RAISE(ABORT, 'grants are immutable except for revocation'); END
    """,
  ]

  /// v8: pinned tool definitions (see `ToolPin`), one row per server, command line and tool; a
  /// change moves the change generation, so every warden on the store sees a drift or an acceptance
  /// before its next call.
  ///
  /// ```
  /// tool_pins         server, command, tool   the primary key
  ///   pinned          the accepted definition (canonical JSON); NULL for a tool added since
  ///   observed        the definition seen that differs from it; NULL when none does
  ///   state           'pinned' | 'changed' | 'added'
  ///   since           when the state began (ms); accepted_by: who accepted it, if a human did
  /// ```
  static let v8 = [
    """
    CREATE TABLE tool_pins (
      server TEXT NOT NULL,
      command TEXT NOT NULL,
      tool TEXT NOT NULL,
      pinned TEXT,
      observed TEXT,
      state TEXT NOT NULL CHECK (state IN ('pinned', 'changed', 'added')),
      since INTEGER NOT NULL,
      accepted_by TEXT,
      PRIMARY KEY (server, command, tool),
      CHECK ((state = 'pinned') = (observed IS NULL)),
      CHECK ((state = 'added') = (pinned IS NULL))
    ) STRICT
    """,
    """
    CREATE TRIGGER tool_pins_insert_generation AFTER INSERT ON tool_pins
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
    """
    CREATE TRIGGER tool_pins_update_generation AFTER UPDATE ON tool_pins
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
    """
    CREATE TRIGGER tool_pins_delete_generation AFTER DELETE ON tool_pins
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
  ]

  /// v1: grants and forbids, the change generation, rate-limit uses.
  ///
  /// ```
  /// grants            one row per grant (effect 'allow') or forbid (effect 'forbid'); never deleted
  ///   id              TEXT PK, non-empty (`g_...` / `f_...`)
  ///   effect          'allow' | 'forbid'
  ///   actions         JSON array of strings, non-empty
  ///   resources       JSON array of strings (empty: every resource)
  ///   agent, server   globs, non-empty
  ///   confirm         JSON array of strings
  ///   purpose, issued_by, issued_at (ms since the epoch)
  ///   expires_at      ms; NOT NULL for an allow
  ///   rate_count, rate_period_ms   both NULL or both > 0
  ///   parent_id       grant narrowed by this one (FK grants.id), never itself
  ///   revoked_at, revoked_by       revoked_by only with revoked_at
  ///   Triggers: only revoked_at/revoked_by may change, once; any insert, update or delete bumps
  ///   generation.value.
  /// generation        exactly one row (id = 1): value counts changes to grants; read by changeToken
  /// grant_uses        (grant_id FK grants.id, at ms): one row per allowed call under a rate-limited
  ///                   grant; rows older than the grant's period are pruned as new ones come
  /// ```
  static let v1 = [
    """
    CREATE TABLE grants (
      id TEXT NOT NULL PRIMARY KEY CONSTRAINT id_not_empty CHECK (length(id) > 0),
      effect TEXT NOT NULL CONSTRAINT effect_known CHECK (effect IN ('allow', 'forbid')),
      actions TEXT NOT NULL CONSTRAINT actions_non_empty_array
        CHECK (json_valid(actions) AND json_type(actions) = 'array' AND json_array_length(actions) > 0),
      resources TEXT NOT NULL CONSTRAINT resources_array
        CHECK (json_valid(resources) AND json_type(resources) = 'array'),
      agent TEXT NOT NULL CONSTRAINT agent_not_empty CHECK (length(agent) > 0),
      server TEXT NOT NULL CONSTRAINT server_not_empty CHECK (length(server) > 0),
      confirm TEXT NOT NULL CONSTRAINT confirm_array
        CHECK (json_valid(confirm) AND json_type(confirm) = 'array'),
      purpose TEXT NOT NULL,
      issued_by TEXT NOT NULL,
      issued_at INTEGER NOT NULL,
      expires_at INTEGER,
      rate_count INTEGER,
      rate_period_ms INTEGER,
      parent_id TEXT REFERENCES grants(id),
      revoked_at INTEGER,
      revoked_by TEXT,
      CONSTRAINT allow_expires CHECK (effect = 'forbid' OR expires_at IS NOT NULL),
      CONSTRAINT rate_limit_whole CHECK ((rate_count IS NULL) = (rate_period_ms IS NULL)),
      CONSTRAINT rate_limit_positive CHECK (rate_count IS NULL OR (rate_count > 0 AND rate_period_ms > 0)),
      CONSTRAINT parent_not_self CHECK (parent_id IS NULL OR parent_id <> id),
      CONSTRAINT revoked_by_with_revoked_at CHECK (revoked_by IS NULL OR revoked_at IS NOT NULL)
    ) STRICT
    """,
    "CREATE INDEX grants_by_order ON grants(issued_at, id)",
    "CREATE INDEX grants_by_parent ON grants(parent_id) WHERE parent_id IS NOT NULL",
    "CREATE INDEX grants_by_agent ON grants(agent)",
    """
    CREATE TABLE generation (
      id INTEGER NOT NULL PRIMARY KEY CONSTRAINT single_row CHECK (id = 1),
      value INTEGER NOT NULL
    ) STRICT
    """,
    "INSERT INTO generation (id, value) VALUES (1, 0)",
    """
    CREATE TRIGGER grants_immutable BEFORE UPDATE OF
      id, effect, actions, resources, agent, server, confirm, purpose, issued_by, issued_at, expires_at,
      rate_count, rate_period_ms, parent_id ON grants
    BEGIN SELECT RAISE(ABORT, 'grants are immutable except for revocation'); END
    """,
    """
    CREATE TRIGGER grants_revocation_final BEFORE UPDATE OF revoked_at, revoked_by ON grants
    WHEN OLD.revoked_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a revoked grant stays revoked'); END
    """,
    """
    CREATE TRIGGER grants_insert_generation AFTER INSERT ON grants
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
    """
    CREATE TRIGGER grants_update_generation AFTER UPDATE ON grants
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
    """
    CREATE TRIGGER grants_delete_generation AFTER DELETE ON grants
    BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END
    """,
    """
    CREATE TABLE grant_uses (
      grant_id TEXT NOT NULL REFERENCES grants(id),
      at INTEGER NOT NULL
    ) STRICT
    """,
    "CREATE INDEX grant_uses_by_grant ON grant_uses(grant_id, at)",
  ]

  /// v3: tool calls held for a human's decision.
  ///
  /// ```
  /// holds             one row per held call; never deleted
  ///   id              TEXT PK (`h_...`)
  ///   server, agent, tool, arguments (canonical JSON), digest (SHA-256 of server, tool, arguments)
  ///   action, resources (JSON array), reason, explanation, grant_id, purpose
  ///   holder_pid      the warden run process holding the call
  ///   created_at, deadline (ms)
  ///   state           'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled'
  ///   decided_by, channel, decided_at, note: set once, when the state leaves 'pending'
  ///   Triggers: a decided hold never changes again (the first decision wins); no hold is deleted.
  /// ```
  static let v3 = [
    """
    CREATE TABLE holds (
      id TEXT PRIMARY KEY NOT NULL CHECK (length(id) > 0),
      server TEXT NOT NULL,
      agent TEXT NOT NULL,
      tool TEXT NOT NULL,
      arguments TEXT NOT NULL,
      digest TEXT NOT NULL,
      action TEXT NOT NULL,
      resources TEXT NOT NULL,
      reason TEXT NOT NULL,
      explanation TEXT NOT NULL,
      grant_id TEXT,
      purpose TEXT,
      holder_pid INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      deadline INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
      decided_by TEXT,
      channel TEXT,
      decided_at INTEGER,
      note TEXT,
      CHECK ((state = 'pending') = (decided_at IS NULL))
    ) STRICT
    """,
    "CREATE INDEX holds_pending ON holds(state, created_at)",
    """
    CREATE TRIGGER holds_decided_once BEFORE UPDATE ON holds
    WHEN OLD.state <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'hold already decided'); END
    """,
    """
    CREATE TRIGGER holds_never_deleted BEFORE DELETE ON holds
    BEGIN SELECT RAISE(ABORT, 'holds are never deleted'); END
    """,
  ]
}
