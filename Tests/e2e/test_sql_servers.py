"""The curated SQL manifests (manifests/sqlite.yaml, manifests/postgres.yaml) against their real servers'
`tools/list`, listed with the SDK client through `warden run` (the built-in manifest, found by the
server's alias): mcp-server-sqlite 2025.4.25, and postgres-mcp 0.3.0 in both access modes against the
session's PostgreSQL cluster.

Every tool a server lists must be declared, and every argument of its inputSchema must be read by the
manifest: changing the argument's value (one at a time, the others fixed) must change what the call
means (its operations' actions and resources, as `warden check --json` computes them), unless the
argument is listed below as selecting no resource, with the reason. A tool or an argument that a
future release adds fails this test until the manifest, or the list, says what it means.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import strip_tool_list, warden_cli
from sdk_support import dump, run_async, session

# Arguments that select no resource, with the reason; every other argument must be read.
SQLITE_UNREAD = {
    ("append_insight", "insight"): "free text added to the server's in-memory memo",
}
POSTGRES_UNREAD = {
    ("list_objects", "object_type"): "which catalog view is listed; the schema is the resource",
    ("get_object_details", "object_type"): "which catalog view is read; schema and name are the resource",
    ("explain_query", "analyze"): "the SQL is decided as if it ran, which it does with analyze",
    ("analyze_workload_indexes", "max_index_size_mb"): "a size limit of the advice",
    ("analyze_query_indexes", "max_index_size_mb"): "a size limit of the advice",
    ("analyze_db_health", "health_type"): "which health checks run, all reading statistics",
    ("get_top_queries", "sort_by"): "the order of the report",
    ("get_top_queries", "limit"): "the length of the report",
}
# Arguments that select resources the template language cannot read (SQL in a list): the tool must
# then be destructive whatever the arguments, so a human reads every call.
POSTGRES_HELD = {
    ("analyze_query_indexes", "queries"): "a list of SQL texts; warden classifies one SQL string",
}

SQL_A, SQL_B = "SELECT * FROM alpha", "SELECT * FROM beta"
# Arguments whose schema alone says too little to make two values of (objects without properties).
SAMPLES = {
    "hypothetical_indexes": ([{"table": "alpha", "columns": ["c"]}], [{"table": "beta", "columns": ["c"]}]),
}


def two_values(name: str, schema: dict) -> tuple:
    """Two different values of the type `schema` declares: SQL text that names another table, for any
    free string (so that a table name, a schema name or SQL each select another resource)."""
    if name in SAMPLES:
        return SAMPLES[name]
    kind = schema.get("type")
    if "enum" in schema:
        assert len(schema["enum"]) >= 2, schema
        return schema["enum"][0], schema["enum"][1]
    if kind == "string":
        return SQL_A, SQL_B
    if kind == "integer" or kind == "number":
        return 1, 2
    if kind == "boolean":
        return False, True
    if kind == "array" and schema.get("items", {}).get("type") == "string":
        return [SQL_A], [SQL_B]
    raise AssertionError(f"argument {name}: no sample values for {schema}; add them to SAMPLES")


def meaning(warden_bin, server: str, context: list[str], tool: str, arguments: dict) -> dict:
    """What `warden check` says the call means: {"reason", "operations": [(action, resources)], "destructive"}."""
    flags = [flag for pair in context for flag in ("--context", pair)]
    result = warden_cli(warden_bin, "check", "--server", server, *flags, tool, json.dumps(arguments), "--json")
    assert result.returncode in (0, 2, 3), result.stderr
    decision = json.loads(result.stdout)
    operations = decision.get("operations") or (
        [{"action": decision["action"], "resources": decision["resources"]}] if "action" in decision else []
    )
    return {
        "reason": decision["reason"],
        "explanation": decision["explanation"] if decision["reason"] == "bad-arguments" else None,
        "operations": [(op["action"], op["resources"]) for op in operations],
        "destructive": decision.get("destructive"),
    }


def check_coverage(warden_bin, server: str, context: list[str], tools: list[dict], unread: dict, held: dict):
    for tool in tools:
        name, schema = tool["name"], tool["inputSchema"]
        properties = schema.get("properties", {})
        samples = {arg: two_values(arg, spec) for arg, spec in properties.items()}
        base = {arg: values[0] for arg, values in samples.items()}
        first = meaning(warden_bin, server, context, name, base)
        assert first["reason"] not in ("undeclared", "bad-arguments"), f"{server} {name}: {first}"
        assert first["operations"], f"{server} {name}: {first}"
        for arg, (_, other) in samples.items():
            if (name, arg) in unread:
                continue
            second = meaning(warden_bin, server, context, name, {**base, arg: other})
            if (name, arg) in held:
                assert first["destructive"] is True and second["destructive"] is True, (name, arg, first, second)
                continue
            assert second["operations"] != first["operations"], (
                f"{server}: argument {arg!r} of {name} selects a resource the manifest does not read "
                f"(both values mean {first['operations']}); read it, or list it with the reason"
            )
    listed = {tool["name"] for tool in tools}
    stale = {key for key in {**unread, **held} if key[0] not in listed}
    assert not stale, f"listed arguments of tools the server no longer has: {stale}"


def list_tools(argv: list) -> list[dict]:
    async def scenario():
        async with session(argv) as client:
            return dump(await client.list_tools())

    listing = run_async(scenario)
    stripped, marks = strip_tool_list(listing)
    assert set(marks) == {tool["name"] for tool in stripped["tools"]}
    assert all(mark["status"] == "not-delegated" for mark in marks.values()), marks
    return stripped["tools"]


def test_sqlite_manifest_covers_the_real_server(warden_bin, sqlite_server_bin, tmp_path):
    database = tmp_path / "dev.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE alpha(a)")
    context = ["db=dev", f"db_path={database}"]
    flags = [flag for pair in context for flag in ("--context", pair)]
    argv = [warden_bin, "run", "--server", "mcp-server-sqlite", *flags, "--", sqlite_server_bin, "--db-path", database]
    tools = list_tools(argv)
    assert {tool["name"] for tool in tools} == {
        "read_query", "write_query", "create_table", "list_tables", "describe_table", "append_insight",
    }
    check_coverage(warden_bin, "mcp-server-sqlite", context, tools, SQLITE_UNREAD, {})


@pytest.mark.parametrize("mode", ["unrestricted", "restricted"])
def test_postgres_manifest_covers_the_real_server(warden_bin, postgres_server_bin, postgres_cluster, mode):
    context = ["db=dev"]
    argv = [warden_bin, "run", "--server", "postgres-mcp", "--context", "db=dev", "--",
            postgres_server_bin, f"--access-mode={mode}", postgres_cluster.url("postgres")]
    tools = list_tools(argv)
    assert {tool["name"] for tool in tools} >= {
        "list_schemas", "list_objects", "get_object_details", "explain_query", "analyze_workload_indexes",
        "analyze_query_indexes", "analyze_db_health", "get_top_queries", "execute_sql",
    }
    check_coverage(warden_bin, "postgres-mcp", context, tools, POSTGRES_UNREAD, POSTGRES_HELD)
