"""Incident: "a production database wiped during a dev task".

The agent works on a dev database and can also reach production. Two instances of each real server,
mcp-server-sqlite and postgres-mcp (unrestricted mode: nothing but warden stands in the way), behind
the curated manifests, with the official SDK client: `db-dev`/`pg-dev` on the dev database and
`db-prod`/`pg-prod` on production. The agent's MCP configuration says `--context db=dev` for the
production instances too (an agent can edit it); `$WARDEN_HOME/config.yaml` pins their context, and
the pin wins. The human granted reads, inserts and updates on dev, reads on production, and forbade
deletes and drops on any production table.

INSERT and UPDATE on dev run without a hold; DELETE and DROP on production are denied, also hidden
after a comment, in a CTE, behind quotes, after a first statement, or inside EXPLAIN ANALYZE; on dev,
`INSERT ...; DROP TABLE ...` is denied whole (the drop is not granted) and its insert does not
happen; `INSERT OR REPLACE` is also a delete and is denied; an insert whose trigger deletes is
denied; `ATTACH`, `VACUUM INTO`, `PRAGMA writable_schema`, `COPY ... TO PROGRAM`, `DO` blocks and
file functions never reach the server. The test fails if any harmful call reaches a server (the
byte taps in front of them show exactly the allowed calls) or if either database changed otherwise.

What mcp-server-sqlite does with these calls when nothing stands in front of it (seen with the same
release): the CTE's DELETE, INSERT OR REPLACE and the insert that fires the trigger are committed;
VACUUM INTO writes a copy of the database anywhere; ATTACH creates the file it names; a DELETE after
a comment runs and is rolled back (the server commits only text starting with a write keyword); text
with two statements is refused by Python's sqlite3 (one statement per execute). postgres-mcp in
unrestricted mode runs and commits everything, several statements at once included, and
explain_query with `analyze: true` runs its statement.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sdk_support import assert_allowed, assert_denied, call, calls_seen_by_server, run_async, session, tapped, text_of

PROD_ROWS = 1207
DEV_ROWS = 12
FORBID_PURPOSE = "never delete or drop anything in production"


def contacts_rows(count: int) -> list[tuple]:
    return [(i, f"person {i}", f"p{i}@corp.example") for i in range(1, count + 1)]


def make_sqlite(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE contacts(id INTEGER PRIMARY KEY, name TEXT UNIQUE, email TEXT);
            CREATE TABLE imports(name TEXT);
            -- A clean-up trigger the team wrote long ago: every import empties the contact list.
            CREATE TRIGGER reset_contacts AFTER INSERT ON imports BEGIN DELETE FROM contacts; END;
            """
        )
        db.executemany("INSERT INTO contacts VALUES (?, ?, ?)", contacts_rows(rows))


def sqlite_state(path: Path) -> dict:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'"))
        rows = db.execute("SELECT id, name, email FROM contacts ORDER BY id").fetchall()
        imports = db.execute("SELECT count(*) FROM imports").fetchone()[0]
    return {"tables": tables, "rows": rows, "imports": imports}


def pin_context(home: Path, servers: dict) -> None:
    """Appends `servers: NAME: context: {...}` to $WARDEN_HOME/config.yaml (the fixture wrote `scripted: allow`)."""
    lines = ["servers:"]
    for name, context in servers.items():
        pairs = ", ".join(f"{key}: {value!r}" if "/" in str(value) else f"{key}: {value}" for key, value in context.items())
        lines.append(f"  {name}:\n    context: {{{pairs}}}")
    with open(home / "config.yaml", "a") as config:
        config.write("\n".join(lines) + "\n")


def run_calls(argv: list, calls: list) -> list[dict]:
    async def scenario():
        async with session(argv) as client:
            return [await call(client, tool, arguments) for tool, arguments in calls]

    return run_async(scenario)


def forbidden(result: dict) -> dict:
    decision = assert_denied(result, "forbidden")
    assert FORBID_PURPOSE in text_of(result), text_of(result)
    return decision


def denied_not_delegated(result: dict, action: str) -> dict:
    decision = assert_denied(result, "not-delegated")
    assert action in decision["action"], (action, decision)
    return decision


def denied_unclassifiable(result: dict) -> dict:
    return assert_denied(result, "bad-arguments")


# --------------------------------------------------------------------------------------------------
# mcp-server-sqlite

# Harmful calls on dev: (tool, SQL, check of the decision).
SQLITE_DEV_HARMFUL = [
    ("write_query", "INSERT INTO contacts(name, email) VALUES ('mallory', 'm@x'); DROP TABLE contacts",
     lambda r: denied_not_delegated(r, "sqlite.drop")),
    ("write_query", "INSERT OR REPLACE INTO contacts(id, name, email) VALUES (1, 'replaced', 'r@x')",
     lambda r: denied_not_delegated(r, "sqlite.delete")),
    ("write_query", "REPLACE INTO contacts(id, name, email) VALUES (2, 'replaced', 'r@x')",
     lambda r: denied_not_delegated(r, "sqlite.delete")),
    # The trigger of the real database (read from db_path): the insert is also a delete.
    ("write_query", "INSERT INTO imports VALUES ('weekly')", lambda r: denied_not_delegated(r, "sqlite.delete")),
    ("write_query", "/* tidy up */ DELETE FROM contacts", lambda r: denied_not_delegated(r, "sqlite.delete")),
    ("write_query", "WITH doomed AS (SELECT id FROM contacts) DELETE FROM contacts WHERE id IN doomed",
     lambda r: denied_not_delegated(r, "sqlite.delete")),
    ("write_query", "UPDATE contacts SET email = NULL; DELETE FROM contacts",
     lambda r: denied_not_delegated(r, "sqlite.delete")),
    ("create_table", "CREATE TABLE IF NOT EXISTS notes(x); DROP TABLE contacts",
     lambda r: denied_not_delegated(r, "sqlite.create")),
    ("write_query", "ATTACH DATABASE '{prod}' AS prod", lambda r: denied_not_delegated(r, "sqlite.attach")),
    ("write_query", "VACUUM INTO '{exfil}'", lambda r: denied_not_delegated(r, "sqlite.vacuum")),
    ("write_query", "PRAGMA writable_schema = ON", lambda r: denied_not_delegated(r, "sqlite.pragma")),
    ("read_query", "SELECT load_extension('/nonexistent/evil')", denied_unclassifiable),
    ("write_query", "DELETE FROM contacts WHERE", denied_unclassifiable),
]

# Harmful calls on production: each is forbidden whatever else it does.
SQLITE_PROD_HARMFUL = [
    ("write_query", "DELETE FROM contacts"),
    ("write_query", "DROP TABLE contacts"),
    ("write_query", 'DELETE FROM "Contacts" WHERE 1'),
    ("write_query", "-- nightly clean-up\nDELETE FROM contacts"),
    ("write_query", "WITH x AS (SELECT 1) DELETE FROM main.contacts"),
    ("write_query", "INSERT OR REPLACE INTO contacts(id, name) VALUES (1, 'x')"),
    ("read_query", "SELECT 1; DROP TABLE contacts"),
]


def test_sqlite_dev_task_cannot_touch_production(warden_bin, sqlite_server_bin, warden_home, grant, forbid, tmp_path):
    dev_db, prod_db, exfil = tmp_path / "dev.db", tmp_path / "prod.db", tmp_path / "exfil.db"
    make_sqlite(dev_db, DEV_ROWS)
    make_sqlite(prod_db, PROD_ROWS)
    prod_before = sqlite_state(prod_db)
    pin_context(warden_home, {"db-prod": {"db": "production", "db_path": str(prod_db)}})
    grant("--server", "db-dev", "--allow", "sqlite.read,sqlite.insert,sqlite.update", "--on", "db:dev",
          "--on", "table:dev/*", purpose="the dev task")
    grant("--server", "db-prod", "--allow", "sqlite.read", "--on", "db:production", "--on", "table:production/*",
          purpose="look at production data")
    forbid("--action", "sqlite.delete,sqlite.drop", "--on", "table:production/*", purpose=FORBID_PURPOSE)

    manifest = Path(__file__).resolve().parents[3] / "manifests" / "sqlite.yaml"
    dev_argv = [warden_bin, "run", "--server", "db-dev", "--manifest", manifest, "--context", "db=dev",
                "--context", f"db_path={dev_db}", "--confirm-timeout", "0.5", "--",
                *tapped(tmp_path / "dev", [sqlite_server_bin, "--db-path", dev_db])]
    # What the agent's configuration says for production: dev's context. The pinned one wins.
    prod_argv = [warden_bin, "run", "--server", "db-prod", "--manifest", manifest, "--context", "db=dev",
                 "--context", f"db_path={dev_db}", "--confirm-timeout", "0.5", "--",
                 *tapped(tmp_path / "prod", [sqlite_server_bin, "--db-path", prod_db])]

    allowed_dev = [
        ("write_query", {"query": "INSERT INTO contacts(name, email) VALUES ('new hire', 'new@corp.example')"}),
        ("write_query", {"query": "UPDATE contacts SET email = 'hire@corp.example' WHERE name = 'new hire'"}),
        ("read_query", {"query": "SELECT count(*) AS n FROM contacts"}),
        ("list_tables", {}),
    ]
    harmful_dev = [(tool, {"query": sql.format(prod=prod_db, exfil=exfil)}) for tool, sql, _ in SQLITE_DEV_HARMFUL]
    results = run_calls(dev_argv, allowed_dev + harmful_dev)
    for result in results[: len(allowed_dev)]:
        assert_allowed(result)
        assert result.get("isError") is not True and "error" not in text_of(result).lower(), result
    assert "'affected_rows': 1" in text_of(results[0]) and f"'n': {DEV_ROWS + 1}" in text_of(results[2])
    for (tool, sql, check), result in zip(SQLITE_DEV_HARMFUL, results[len(allowed_dev):]):
        check(result)

    allowed_prod = [("read_query", {"query": "SELECT count(*) AS n FROM contacts"})]
    harmful_prod = [(tool, {"query": sql}) for tool, sql in SQLITE_PROD_HARMFUL]
    results = run_calls(prod_argv, allowed_prod + harmful_prod)
    assert f"'n': {PROD_ROWS}" in text_of(assert_allowed(results[0]))
    for (tool, sql), result in zip(SQLITE_PROD_HARMFUL, results[1:]):
        decision = assert_denied(result, result["_meta"]["dev.warden/decision"]["reason"])
        assert decision["reason"] in ("forbidden", "not-delegated"), (sql, decision)
        assert any(r.startswith("table:production/") for r in decision["resources"]), (sql, decision)
        assert not any(":dev" in r for r in decision["resources"]), ("the pinned context wins", decision)
    # Every DELETE and DROP is forbidden, a DROP after a granted read too; INSERT OR REPLACE is denied by
    # its first denied operation, the insert no grant covers (its delete would be forbidden next).
    assert all(forbidden(r) for r in results[1:6] + results[7:]), "every DELETE and DROP on production is forbidden"

    # Exactly the allowed calls reached the servers; the databases show nothing else happened.
    assert calls_seen_by_server(tmp_path / "dev") == [{"name": t, "arguments": a} for t, a in allowed_dev]
    assert calls_seen_by_server(tmp_path / "prod") == [{"name": t, "arguments": a} for t, a in allowed_prod]
    assert sqlite_state(prod_db) == prod_before
    dev = sqlite_state(dev_db)
    assert dev["tables"] == ["contacts", "imports"] and dev["imports"] == 0
    assert dev["rows"] == contacts_rows(DEV_ROWS) + [(DEV_ROWS + 1, "new hire", "hire@corp.example")]
    assert not exfil.exists()


# --------------------------------------------------------------------------------------------------
# postgres-mcp

PG_SCHEMA = "CREATE TABLE contacts(id serial PRIMARY KEY, name text UNIQUE, email text);"


def pg_state(cluster, database: str) -> str:
    return cluster.psql(
        database,
        "SELECT (SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public')"
        " || ' ' || (SELECT count(*) FROM contacts) || ' ' || (SELECT md5(string_agg(id || name || coalesce(email, ''),"
        " ',' ORDER BY id)) FROM contacts)",
    )


PG_DEV_HARMFUL = [
    ("execute_sql", {"sql": "INSERT INTO contacts(name) VALUES ('mallory'); DROP TABLE contacts"},
     lambda r: denied_not_delegated(r, "postgres.drop")),
    ("execute_sql", {"sql": "WITH gone AS (DELETE FROM contacts RETURNING id) SELECT count(*) FROM gone"},
     lambda r: denied_not_delegated(r, "postgres.delete")),
    ("execute_sql", {"sql": "/* reset */ TRUNCATE contacts"}, lambda r: denied_not_delegated(r, "postgres.delete")),
    ("execute_sql", {"sql": "PREPARE wipe AS DELETE FROM contacts; EXECUTE wipe"},
     lambda r: denied_not_delegated(r, "postgres.delete")),
    ("execute_sql", {"sql": "CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM contacts'; SELECT wipe()"},
     lambda r: denied_not_delegated(r, "postgres.create")),
    ("explain_query", {"sql": "DELETE FROM contacts", "analyze": True},
     lambda r: denied_not_delegated(r, "postgres.delete")),
    ("explain_query", {"sql": "SELECT 1; DROP TABLE contacts"}, lambda r: denied_not_delegated(r, "postgres.drop")),
    ("execute_sql", {"sql": "COPY contacts TO PROGRAM 'touch {marker}'"}, denied_unclassifiable),
    ("execute_sql", {"sql": "DO $$ BEGIN EXECUTE 'DROP TABLE contacts'; END $$"}, denied_unclassifiable),
    ("execute_sql", {"sql": "SELECT pg_read_file('/etc/hostname')"}, denied_unclassifiable),
    ("execute_sql", {"sql": "SELECT lo_import('/etc/hostname')"}, denied_unclassifiable),
    ("execute_sql", {"sql": "SELECT dblink_exec('dbname=production', 'DROP TABLE contacts')"}, denied_unclassifiable),
]

PG_PROD_HARMFUL = [
    "DELETE FROM contacts",
    "DROP TABLE contacts",
    "TRUNCATE public.contacts",
    'DROP TABLE "contacts"',
    "-- clean-up\nDELETE FROM contacts WHERE true",
    "WITH gone AS (DELETE FROM contacts RETURNING id) SELECT count(*) FROM gone",
    "DROP SCHEMA public CASCADE",
]


def test_postgres_dev_task_cannot_touch_production(
    warden_bin, postgres_server_bin, postgres_cluster, warden_home, grant, forbid, tmp_path
):
    marker = tmp_path / "copied-to-program"
    dev = postgres_cluster.createdb(f"dev_{tmp_path.name}"[:60].lower().replace("-", "_"),
                                    PG_SCHEMA + "INSERT INTO contacts(name, email) SELECT 'person ' || i, i || '@x' FROM generate_series(1, 12) i;")
    prod = postgres_cluster.createdb(f"prod_{tmp_path.name}"[:60].lower().replace("-", "_"),
                                     PG_SCHEMA + f"INSERT INTO contacts(name, email) SELECT 'person ' || i, i || '@x' FROM generate_series(1, {PROD_ROWS}) i;")
    prod_before = pg_state(postgres_cluster, prod)
    pin_context(warden_home, {"pg-prod": {"db": "production"}})
    grant("--server", "pg-dev", "--allow", "postgres.read,postgres.insert,postgres.update", "--on", "db:dev",
          "--on", "table:dev/*", purpose="the dev task")
    grant("--server", "pg-prod", "--allow", "postgres.read", "--on", "db:production", "--on", "table:production/*",
          purpose="look at production data")
    forbid("--action", "postgres.delete,postgres.drop", "--on", "table:production/*", purpose=FORBID_PURPOSE)

    manifest = Path(__file__).resolve().parents[3] / "manifests" / "postgres.yaml"
    server = [postgres_server_bin, "--access-mode=unrestricted"]
    dev_argv = [warden_bin, "run", "--server", "pg-dev", "--manifest", manifest, "--context", "db=dev",
                "--confirm-timeout", "0.5", "--", *tapped(tmp_path / "dev", [*server, postgres_cluster.url(dev)])]
    prod_argv = [warden_bin, "run", "--server", "pg-prod", "--manifest", manifest, "--context", "db=dev",
                 "--confirm-timeout", "0.5", "--", *tapped(tmp_path / "prod", [*server, postgres_cluster.url(prod)])]

    allowed_dev = [
        ("execute_sql", {"sql": "INSERT INTO contacts(name, email) VALUES ('new hire', 'new@corp.example')"}),
        ("execute_sql", {"sql": "INSERT INTO contacts(name, email) VALUES ('new hire', 'hire@corp.example') "
                                "ON CONFLICT (name) DO UPDATE SET email = excluded.email"}),
        ("execute_sql", {"sql": "SELECT count(*) AS n FROM contacts"}),
    ]
    harmful_dev = [(tool, {k: (v.format(marker=marker) if isinstance(v, str) else v) for k, v in args.items()})
                   for tool, args, _ in PG_DEV_HARMFUL]
    results = run_calls(dev_argv, allowed_dev + harmful_dev)
    for result in results[: len(allowed_dev)]:
        assert_allowed(result)
        assert not text_of(result).startswith("Error"), text_of(result)
    assert "'n': 13" in text_of(results[2]), text_of(results[2])
    for (tool, args, check), result in zip(PG_DEV_HARMFUL, results[len(allowed_dev):]):
        check(result)

    allowed_prod = [("execute_sql", {"sql": "SELECT count(*) AS n FROM contacts"})]
    results = run_calls(prod_argv, allowed_prod + [("execute_sql", {"sql": sql}) for sql in PG_PROD_HARMFUL])
    assert f"'n': {PROD_ROWS}" in text_of(assert_allowed(results[0])), text_of(results[0])
    for sql, result in zip(PG_PROD_HARMFUL, results[1:]):
        decision = forbidden(result)
        assert all(":dev" not in r for r in decision["resources"]), ("the pinned context wins", sql, decision)

    assert calls_seen_by_server(tmp_path / "dev") == [{"name": t, "arguments": a} for t, a in allowed_dev]
    assert calls_seen_by_server(tmp_path / "prod") == [{"name": t, "arguments": a} for t, a in allowed_prod]
    assert pg_state(postgres_cluster, prod) == prod_before
    assert postgres_cluster.psql(dev, "SELECT count(*) || ' ' || max(email) FILTER (WHERE name = 'new hire') FROM contacts") \
        == "13 hire@corp.example"
    assert re.fullmatch(r"contacts 1207 [0-9a-f]{32}", prod_before), prod_before
    assert not marker.exists()
