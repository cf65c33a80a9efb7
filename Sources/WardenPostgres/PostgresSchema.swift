/// The PostgreSQL store's schema, as numbered migrations applied in order and recorded in
/// `warden_migrations`; forward only. Applied by `warden store migrate` alone (with a role that
/// owns the schema): every other command checks that the database has exactly the migrations this
/// build knows and refuses it otherwise.
///
/// The tables, columns and invariants are the SQLite store's (`Schema` in WardenStore), the SQLite
/// triggers rewritten in PL/pgSQL: grants are immutable except for a one-time revocation, a decided
/// hold never changes and no hold is deleted, audit records are never changed. String arrays are
/// JSON text, as in SQLite, so a copy between the two keeps every byte; times are milliseconds.
///
/// Changes that running wardens must see move `generation.value` and send a notification on
/// `warden_changes`; a new hold or a decision notifies `warden_holds` with the hold's id.
enum PostgresSchema {
  struct Migration: Sendable {
    var version: Int
    var name: String
    var statements: [String]
  }

  static let migrations: [Migration] = [
    Migration(version: 1, name: "store", statements: v1)
  ]

  /// v1: the SQLite store as of its migration v8, in one step.
  static let v1: [String] = [
    """
    CREATE TABLE grants (
      id TEXT NOT NULL PRIMARY KEY CONSTRAINT id_not_empty CHECK (length(id) > 0),
      effect TEXT NOT NULL CONSTRAINT effect_known CHECK (effect IN ('allow', 'forbid')),
      actions TEXT NOT NULL CONSTRAINT actions_non_empty_array
        CHECK (jsonb_typeof(actions::jsonb) = 'array' AND jsonb_array_length(actions::jsonb) > 0),
      resources TEXT NOT NULL CONSTRAINT resources_array CHECK (jsonb_typeof(resources::jsonb) = 'array'),
      agent TEXT NOT NULL CONSTRAINT agent_not_empty CHECK (length(agent) > 0),
      server TEXT NOT NULL CONSTRAINT server_not_empty CHECK (length(server) > 0),
      confirm TEXT NOT NULL CONSTRAINT confirm_array CHECK (jsonb_typeof(confirm::jsonb) = 'array'),
      purpose TEXT NOT NULL,
      issued_by TEXT NOT NULL,
      issued_at BIGINT NOT NULL,
      expires_at BIGINT,
      rate_count BIGINT,
      rate_period_ms BIGINT,
      parent_id TEXT REFERENCES grants(id),
      revoked_at BIGINT,
      revoked_by TEXT,
      attestation TEXT,
      reviewed TEXT NOT NULL DEFAULT '[]' CONSTRAINT reviewed_array CHECK (jsonb_typeof(reviewed::jsonb) = 'array'),
      CONSTRAINT allow_expires CHECK (effect = 'forbid' OR expires_at IS NOT NULL),
      CONSTRAINT rate_limit_whole CHECK ((rate_count IS NULL) = (rate_period_ms IS NULL)),
      CONSTRAINT rate_limit_positive CHECK (rate_count IS NULL OR (rate_count > 0 AND rate_period_ms > 0)),
      CONSTRAINT parent_not_self CHECK (parent_id IS NULL OR parent_id <> id),
      CONSTRAINT revoked_by_with_revoked_at CHECK (revoked_by IS NULL OR revoked_at IS NOT NULL)
    )
    """,
    "CREATE INDEX grants_by_order ON grants(issued_at, id)",
    "CREATE INDEX grants_by_parent ON grants(parent_id) WHERE parent_id IS NOT NULL",
    "CREATE INDEX grants_by_agent ON grants(agent)",
    "CREATE INDEX grants_by_server ON grants(server)",
    """
    CREATE TABLE generation (
      id INTEGER NOT NULL PRIMARY KEY CONSTRAINT single_row CHECK (id = 1),
      value BIGINT NOT NULL
    )
    """,
    "INSERT INTO generation (id, value) VALUES (1, 0)",
    // Runs as the schema's owner, so a role that may insert a breaker trip need not be able to
    // write the generation directly.
    """
    CREATE FUNCTION warden_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path FROM CURRENT AS $$
    BEGIN
      UPDATE generation SET value = value + 1 WHERE id = 1;
      PERFORM pg_notify('warden_changes', current_schema());
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION warden_grants_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'a revoked grant stays revoked';
      END IF;
      IF (NEW.id, NEW.effect, NEW.actions, NEW.resources, NEW.agent, NEW.server, NEW.confirm, NEW.purpose,
          NEW.issued_by, NEW.issued_at, NEW.expires_at, NEW.rate_count, NEW.rate_period_ms, NEW.parent_id,
          NEW.attestation, NEW.reviewed)
        IS DISTINCT FROM
         (OLD.id, OLD.effect, OLD.actions, OLD.resources, OLD.agent, OLD.server, OLD.confirm, OLD.purpose,
          OLD.issued_by, OLD.issued_at, OLD.expires_at, OLD.rate_count, OLD.rate_period_ms, OLD.parent_id,
          OLD.attestation, OLD.reviewed)
      THEN
        RAISE EXCEPTION 'grants are immutable except for revocation';
      END IF;
      RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER grants_immutable BEFORE UPDATE ON grants FOR EACH ROW EXECUTE FUNCTION warden_grants_immutable()",
    """
    CREATE TRIGGER grants_generation AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION warden_changed()
    """,
    """
    CREATE TABLE grant_uses (
      grant_id TEXT NOT NULL REFERENCES grants(id),
      at BIGINT NOT NULL
    )
    """,
    "CREATE INDEX grant_uses_by_grant ON grant_uses(grant_id, at)",
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
      holder_pid BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      deadline BIGINT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
      decided_by TEXT,
      channel TEXT,
      decided_at BIGINT,
      note TEXT,
      approval_code TEXT,
      attestation TEXT,
      CHECK ((state = 'pending') = (decided_at IS NULL))
    )
    """,
    "CREATE INDEX holds_pending ON holds(state, created_at)",
    """
    CREATE FUNCTION warden_holds_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'holds are never deleted';
      END IF;
      IF OLD.state <> 'pending' THEN
        RAISE EXCEPTION 'hold already decided';
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER holds_decided_once BEFORE UPDATE OR DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION warden_holds_decided_once()
    """,
    """
    CREATE FUNCTION warden_hold_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('warden_holds', current_schema() || ' ' || NEW.id);
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER holds_notify AFTER INSERT OR UPDATE ON holds
    FOR EACH ROW EXECUTE FUNCTION warden_hold_changed()
    """,
    """
    CREATE TABLE audit (
      seq BIGINT NOT NULL PRIMARY KEY,
      hash TEXT NOT NULL,
      record TEXT NOT NULL,
      at BIGINT NOT NULL,
      kind TEXT NOT NULL,
      agent TEXT NOT NULL,
      server TEXT NOT NULL,
      call_id TEXT NOT NULL
    )
    """,
    "CREATE INDEX audit_by_time ON audit(at)",
    """
    CREATE FUNCTION warden_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit records are never changed';
    END $$
    """,
    """
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION warden_audit_append_only()
    """,
    """
    CREATE TABLE audit_key (
      id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
      secret TEXT NOT NULL
    )
    """,
    // The secret itself is inserted by the migrator, from this machine's random source.
    """
    CREATE TABLE audit_journal (
      session TEXT NOT NULL PRIMARY KEY,
      committed BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE breaker_trips (
      agent TEXT NOT NULL PRIMARY KEY,
      tripped_at BIGINT NOT NULL,
      reason TEXT NOT NULL,
      effect TEXT NOT NULL CHECK (effect IN ('deny', 'hold')),
      session TEXT NOT NULL
    )
    """,
    """
    CREATE TRIGGER breaker_trips_generation AFTER INSERT OR DELETE ON breaker_trips
    FOR EACH STATEMENT EXECUTE FUNCTION warden_changed()
    """,
    """
    CREATE TABLE tool_pins (
      server TEXT NOT NULL,
      command TEXT NOT NULL,
      tool TEXT NOT NULL,
      pinned TEXT,
      observed TEXT,
      state TEXT NOT NULL CHECK (state IN ('pinned', 'changed', 'added')),
      since BIGINT NOT NULL,
      accepted_by TEXT,
      PRIMARY KEY (server, command, tool),
      CHECK ((state = 'pinned') = (observed IS NULL)),
      CHECK ((state = 'added') = (pinned IS NULL))
    )
    """,
    """
    CREATE TRIGGER tool_pins_generation AFTER INSERT OR UPDATE OR DELETE ON tool_pins
    FOR EACH STATEMENT EXECUTE FUNCTION warden_changed()
    """,
  ]
}
