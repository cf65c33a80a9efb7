"""`warden manifest init` (issue 17): a draft manifest from a server's own tools/list.

Against the real servers (mcp-server-git, mcp-server-time, mcp-server-fetch, the mailbox example;
mcp-server-sqlite and postgres-mcp, whose SQL the drafts read as the curated manifests do):
the draft lints clean, its `destructive` marks follow each tool's annotations as the SDK client reads
them (MCP's defaults: destructive unless read-only or destructiveHint false), and wherever the draft's
action for a tool is the curated manifest's, `warden check` gives the same verdict for the same call
under the same grants with either manifest. With `servers/drafting.py`: both protocol eras with
pagination, `--write` (0600, no overwrite without --force), a server that never answers, one that
lists nothing, and hostile tool names and descriptions.
"""

from __future__ import annotations

import json
import os
import sqlite3
import re
import stat
import sys
import time

import pytest

from conftest import SERVERS_DIR, venv_tool, warden_cli
from sdk_support import dump, run_async, session

DRAFTING = SERVERS_DIR / "drafting.py"
# A loaded machine starts a Python server slowly; the default 10 s is meant for people.
TIMEOUT = "30"


def init(warden_bin, *args, timeout: float = 90.0):
    return warden_cli(warden_bin, "manifest", "init", *args, timeout=timeout)


def parse_draft(text: str) -> dict:
    """The tools of a draft (its own regular shape): {tool: {"action": str, "destructive": bool}}."""
    tools, current, in_tools = {}, None, False
    for line in text.splitlines():
        if line.startswith("tools:"):
            in_tools = True
            continue
        if not in_tools or line.lstrip().startswith("#"):
            continue
        key = re.match(r"^  (\S.*):$", line)
        if key:
            name = key.group(1)
            current = json.loads(name) if name.startswith('"') else name
            tools[current] = {"action": None, "destructive": False}
            continue
        field = re.match(r"^    (action|destructive): (.*)$", line)
        if field and current is not None:
            value = field.group(2)
            if field.group(1) == "action":
                tools[current]["action"] = json.loads(value) if value.startswith('"') else value
            else:
                tools[current]["destructive"] = value != "false"
    return tools


def listed_tools(command: list) -> list[dict]:
    """The server's tools as the official SDK client lists them."""

    async def scenario():
        async with session(command, mode="legacy") as client:
            return dump(await client.list_tools())["tools"]

    return run_async(scenario)


def mcp_destructive(tool: dict) -> bool:
    annotations = tool.get("annotations") or {}
    if annotations.get("readOnlyHint") is True:
        return False
    return annotations.get("destructiveHint", True) is not False


def sample_arguments(tool: dict, repo: str) -> dict:
    """A call of `tool` with each required argument filled in by its name and type."""
    schema = tool.get("inputSchema") or {}
    properties = schema.get("properties") or {}
    arguments = {}
    for name in schema.get("required") or []:
        kind = (properties.get(name) or {}).get("type")
        if kind == "array":
            arguments[name] = ["a.txt"]
        elif kind in ("integer", "number"):
            arguments[name] = 1
        elif kind == "boolean":
            arguments[name] = False
        elif "path" in name:
            arguments[name] = repo
        elif name == "url":
            arguments[name] = "https://example.com/page"
        elif name in ("to", "email"):
            arguments[name] = "bob@example.com"
        elif name == "id":
            arguments[name] = "msg-1"
        else:
            arguments[name] = "x"
    return arguments


def verdict(warden_bin, server: str, tool: str, arguments: dict, manifest=None, context=()) -> str:
    args = ["check", "--server", server, "--json", *[flag for pair in context for flag in ("--context", pair)]]
    if manifest is not None:
        args += ["--manifest", manifest]
    result = warden_cli(warden_bin, *args, tool, json.dumps(arguments))
    assert result.returncode in (0, 2, 3), result.stderr
    return json.loads(result.stdout)["verdict"]


def same_verdicts(warden_bin, server: str, calls: list, draft, context) -> set:
    """Checks each (tool, arguments) call under the draft and under the curated manifest, asserts the
    verdicts are the same, and returns them."""
    seen = set()
    for name, arguments in calls:
        with_draft = verdict(warden_bin, server, name, arguments, manifest=draft, context=context)
        with_curated = verdict(warden_bin, server, name, arguments, context=context)
        assert with_draft == with_curated, (name, arguments, with_draft, with_curated)
        seen.add(with_draft)
    return seen


REAL_SERVERS = [
    # (server, --server given to init, instance checked, tools whose actions must coincide with the curated ones)
    pytest.param("git", None, "git", {"git_status", "git_diff_unstaged", "git_diff_staged", "git_diff", "git_log",
                                      "git_show", "git_branch", "git_commit", "git_checkout", "git_reset"}, id="git"),
    pytest.param("time", None, "time", {"get_current_time", "convert_time"}, id="time"),
    pytest.param("fetch", None, "fetch", set(), id="fetch"),
    pytest.param("mailbox", None, "mailbox", set(), id="mailbox"),
    # Named after the curated manifest's action namespace, the mailbox's writes coincide too.
    pytest.param("mailbox", "mail", "mailbox", {"read_message", "move_message", "archive_message", "delete_message",
                                                "send_message"}, id="mailbox-as-mail"),
]

# Grants under which the verdicts are compared (each set issued on top of the previous ones).
GRANTS = {
    "git": [["--allow", "git.read,git.commit", "--on", "repo:{repo}"], ["--allow", "git.*", "--on", "repo:{repo}/**"]],
    "time": [["--allow", "time.read"]],
    "fetch": [["--allow", "web.fetch", "--on", "host:example.com"]],
    "mailbox": [["--allow", "mail.read,mail.delete", "--on", "message:*"],
                ["--allow", "mail.*", "--on", "**"]],
}
FORBIDS = {
    "git": ["--action", "git.reset", "--on", "repo:{repo}"],
    "time": ["--action", "time.read"],
    "fetch": ["--action", "**", "--on", "host:example.com"],
    "mailbox": ["--action", "mail.delete"],
}


def server_command(kind: str, mailbox_bin, tmp_path) -> list:
    if kind == "mailbox":
        return [str(mailbox_bin), "--mailbox", str(tmp_path / "mailbox")]
    return [venv_tool(f"mcp-server-{kind}")]


@pytest.mark.parametrize("kind,server_flag,instance,must_coincide", REAL_SERVERS)
def test_draft_of_a_real_server(warden_bin, mailbox_bin, grant, forbid, tmp_path, kind, server_flag, instance,
                                must_coincide):
    command = server_command(kind, mailbox_bin, tmp_path)
    flags = ["--server", server_flag] if server_flag else []
    drafted = init(warden_bin, *flags, "--timeout", TIMEOUT, "--", *command)
    assert drafted.returncode == 0, drafted.stderr
    text = drafted.stdout
    assert text.startswith("# DRAFT warden manifest"), text[:200]
    expected_server = server_flag or kind
    assert f"\nserver: {expected_server}\n" in text
    draft = tmp_path / "draft.yaml"
    draft.write_text(text)
    lint = warden_cli(warden_bin, "manifest", "lint", draft)
    assert lint.returncode == 0, lint.stderr

    tools = listed_tools(command)
    drafted_tools = parse_draft(text)
    assert set(drafted_tools) == {tool["name"] for tool in tools}
    for tool in tools:
        assert drafted_tools[tool["name"]]["destructive"] == mcp_destructive(tool), (tool, drafted_tools[tool["name"]])
        assert drafted_tools[tool["name"]]["action"].startswith(expected_server + ".")

    # The curated manifest's actions, as `warden check` computes them for a sample call of each tool.
    repo = str(tmp_path / "repo")
    calls = {tool["name"]: sample_arguments(tool, repo) for tool in tools}
    curated_actions = {}
    for name, arguments in calls.items():
        result = warden_cli(warden_bin, "check", "--server", instance, "--json", name, json.dumps(arguments))
        curated_actions[name] = json.loads(result.stdout).get("action")
    coinciding = {name for name in calls if curated_actions[name] == drafted_tools[name]["action"]}
    assert must_coincide <= coinciding, (coinciding, curated_actions, drafted_tools)

    seen = set()

    def compare():
        for name in sorted(coinciding):
            with_draft = verdict(warden_bin, instance, name, calls[name], manifest=draft)
            with_curated = verdict(warden_bin, instance, name, calls[name])
            assert with_draft == with_curated, (name, calls[name], with_draft, with_curated)
            seen.add(with_draft)

    compare()  # no grant: both deny
    for grant_args in GRANTS["mailbox" if kind == "mailbox" else kind]:
        grant("--server", instance, *[a.replace("{repo}", repo) for a in grant_args])
        compare()
    forbid("--server", instance, *[a.replace("{repo}", repo) for a in FORBIDS["mailbox" if kind == "mailbox" else kind]])
    compare()
    if must_coincide:
        # The grants made a difference: the comparison saw calls allowed (or held) and denied.
        assert "deny" in seen and seen & {"allow", "confirm"}, seen


def test_an_older_sdk_server_with_sql(warden_bin, sqlite_server_bin, grant, forbid, tmp_path):
    """mcp-server-sqlite on the mcp 1.x SDK: it refuses the discover probe (-32602, with pages of
    warnings on stderr, kept aside) and answers initialize. Its SQL tools get the installed sqlite
    manifest's form, and decide SQL as that manifest does."""
    database = tmp_path / "notes.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE notes (id INTEGER, body TEXT)")
    drafted = init(warden_bin, "--timeout", TIMEOUT, "--", sqlite_server_bin, "--db-path", database)
    assert drafted.returncode == 0, drafted.stderr
    assert "handshake (" in drafted.stdout and "\nserver: sqlite\n" in drafted.stdout
    assert "validate" not in drafted.stderr, drafted.stderr
    draft = tmp_path / "draft.yaml"
    draft.write_text(drafted.stdout)
    assert warden_cli(warden_bin, "manifest", "lint", draft).returncode == 0
    tools = parse_draft(drafted.stdout)
    for name in ("read_query", "write_query", "create_table"):
        assert tools[name]["action"] == "sqlite.{query|sql-kind}", tools[name]
    assert drafted.stdout.count("    sql: sqlite\n") == 3

    context = ["db=dev", f"db_path={database}"]
    calls = [
        ("read_query", {"query": "SELECT * FROM notes"}),
        ("write_query", {"query": "INSERT INTO notes VALUES (1, 'a')"}),
        ("write_query", {"query": "DELETE FROM notes"}),
        ("write_query", {"query": "INSERT INTO notes VALUES (2, 'b'); DROP TABLE notes"}),
        ("create_table", {"query": "CREATE TABLE t (x)"}),
    ]
    seen = set()

    def compare():
        seen.update(same_verdicts(warden_bin, "sqlite", calls, draft, context))

    compare()
    grant("--server", "sqlite", "--allow", "sqlite.read,sqlite.insert,sqlite.delete", "--on", "db:dev",
          "--on", "table:dev/*")
    compare()
    forbid("--server", "sqlite", "--action", "sqlite.delete", "--on", "table:dev/notes")
    compare()
    assert seen == {"allow", "confirm", "deny"}, seen


def test_postgres_mcp_with_sql(warden_bin, postgres_server_bin, postgres_cluster, grant, forbid, tmp_path):
    """postgres-mcp 0.3.0 (mcp 1.x) in front of a real cluster. It annotates no tool, so every tool
    is drafted destructive (MCP's default) except the SQL one whose text the draft can read:
    `explain_query` gets the installed postgres manifest's form and decides SQL as that manifest
    does. `execute_sql` declares its SQL optional, which `{sql|sql-kind}` cannot read: it is drafted
    as one action on the whole server, held for a human on every call, and the comment says why."""
    database_url = postgres_cluster.url("postgres")
    drafted = init(warden_bin, "--timeout", TIMEOUT, "--", postgres_server_bin, "--access-mode=unrestricted",
                   database_url)
    assert drafted.returncode == 0, drafted.stderr
    assert "\nserver: postgres\n" in drafted.stdout
    draft = tmp_path / "draft.yaml"
    draft.write_text(drafted.stdout)
    assert warden_cli(warden_bin, "manifest", "lint", draft).returncode == 0
    tools = parse_draft(drafted.stdout)
    listed = listed_tools([postgres_server_bin, "--access-mode=unrestricted", database_url])
    assert set(tools) == {tool["name"] for tool in listed}
    for tool in listed:
        assert not tool.get("annotations"), tool  # if a release annotates its tools, check them here
    assert tools["explain_query"]["action"] == "postgres.{sql|sql-kind}", tools["explain_query"]
    assert drafted.stdout.count("    sql: postgres\n") == 1
    for name, tool in tools.items():
        if name != "explain_query":
            assert tool["destructive"] is True, (name, tool)
    assert tools["execute_sql"]["action"] == "postgres.execute", tools["execute_sql"]
    assert "'sql' looks like SQL but it is optional" in drafted.stdout

    context = ["db=dev"]
    explained = [
        {"sql": "SELECT * FROM contacts"},
        {"sql": "SELECT * FROM contacts", "analyze": True},
        {"sql": "INSERT INTO contacts VALUES (1)", "analyze": True},
        {"sql": "DELETE FROM contacts", "analyze": True},
        {"sql": "UPDATE contacts SET a = 1; DROP TABLE contacts", "analyze": True},
    ]
    seen = set()

    def compare():
        seen.update(same_verdicts(warden_bin, "postgres", [("explain_query", a) for a in explained], draft, context))
        # The draft's execute_sql never lets through what the grants below do not name.
        execute = verdict(warden_bin, "postgres", "execute_sql", {"sql": "DELETE FROM contacts"}, manifest=draft,
                          context=context)
        assert execute == "deny", execute

    compare()
    grant("--server", "postgres", "--allow", "postgres.read,postgres.insert,postgres.delete", "--on", "db:dev",
          "--on", "table:dev/*")
    compare()
    forbid("--server", "postgres", "--action", "postgres.delete", "--on", "table:dev/contacts")
    compare()
    assert seen == {"allow", "confirm", "deny"}, seen


def read_log(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("era,expected_era,greetings", [
    ("per-request", "per-request (2026-07-28)", ["server/discover"]),
    ("handshake", "handshake (2025-06-18)", ["server/discover", "initialize", "notifications/initialized"]),
])
def test_both_eras_and_every_page(warden_bin, tmp_path, era, expected_era, greetings):
    log = tmp_path / "methods.log"
    drafted = init(warden_bin, "--timeout", TIMEOUT, "--", sys.executable, DRAFTING, "--era", era,
                   "--pages", "4", "--log", log)
    assert drafted.returncode == 0, drafted.stderr
    assert f"{expected_era} era" in drafted.stdout
    assert "\nserver: drafting\n" in drafted.stdout
    tools = parse_draft(drafted.stdout)
    assert tools == {
        "read_note": {"action": "drafting.read", "destructive": False},
        "delete_note": {"action": "drafting.delete", "destructive": True},
        "write_file": {"action": "drafting.write", "destructive": True},
        "share_page": {"action": "drafting.share", "destructive": False},
    }
    assert read_log(log) == greetings + ["tools/list"] * 4
    assert 'resource: "file:{path|path}"' in drafted.stdout
    assert 'resource: ["host:{url|host}", "domain:{email?|domain}"]' in drafted.stdout
    assert "# not read: note" in drafted.stdout
    assert "no annotation: MCP defaults destructiveHint to true" in drafted.stdout
    draft = tmp_path / "draft.yaml"
    draft.write_text(drafted.stdout)
    assert warden_cli(warden_bin, "manifest", "lint", draft).returncode == 0


def test_write_puts_the_draft_in_warden_home(warden_bin, warden_home):
    command = ["--", sys.executable, str(DRAFTING)]
    written = init(warden_bin, "--write", "--timeout", TIMEOUT, *command)
    assert written.returncode == 0, written.stderr
    path = warden_home / "manifests" / "drafting.yaml"
    assert f"wrote {path}" in written.stdout
    assert "warden manifest lint" in written.stdout and "warden grant --server drafting" in written.stdout
    assert "actions: drafting.delete, drafting.read, drafting.share, drafting.write" in written.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((warden_home / "manifests").stat().st_mode) == 0o700
    before = path.read_text()
    assert before.startswith("# DRAFT")
    assert not [p for p in (warden_home / "manifests").iterdir() if p.name != "drafting.yaml"]

    # Found by its name and its alias (the command's name) as a user manifest.
    checked = warden_cli(warden_bin, "check", "--server", "drafting", "--json", "read_note", '{"id": "n1"}')
    assert json.loads(checked.stdout)["manifest"] == str(path), checked.stdout
    assert json.loads(checked.stdout)["action"] == "drafting.read"

    path.write_text(before + "# edited by the human\n")
    refused = init(warden_bin, "--write", "--timeout", TIMEOUT, *command)
    assert refused.returncode == 73, refused.stderr
    assert "exists" in refused.stderr and "--force" in refused.stderr
    assert path.read_text().endswith("# edited by the human\n")

    forced = init(warden_bin, "--write", "--force", "--timeout", TIMEOUT, *command)
    assert forced.returncode == 0, forced.stderr
    assert not path.read_text().endswith("# edited by the human\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # Another file claiming the name would stop warden run: refused.
    other = warden_home / "manifests" / "mine.yaml"
    other.write_text("server: notes\naliases: [drafting-2]\ntools: {}\n")
    claimed = init(warden_bin, "--write", "--server", "notes", "--timeout", TIMEOUT, *command)
    assert claimed.returncode == 73 and "already claims 'notes'" in claimed.stderr, claimed.stderr
    assert not (warden_home / "manifests" / "notes.yaml").exists()


def test_a_written_draft_is_found_by_the_command_name(warden_bin, warden_home):
    """A draft for mcp-server-time is `server: time` aliased `mcp-server-time`: warden run and check
    find it by either name, in place of the installed manifest (which the output says)."""
    command = venv_tool("mcp-server-time")
    written = init(warden_bin, "--write", "--timeout", TIMEOUT, "--", command)
    assert written.returncode == 0, written.stderr
    assert "replaces the manifest installed with warden for 'time'" in written.stdout
    path = warden_home / "manifests" / "time.yaml"
    by_command = warden_cli(warden_bin, "check", "--server", "clock", "--json", "get_current_time",
                            '{"timezone": "UTC"}', "--", command)
    found = json.loads(by_command.stdout)
    assert found["manifest"] == f"{path}, matched by the command's name 'mcp-server-time'", found
    assert found["resources"] == ["server:time"]


def test_a_server_that_never_answers_times_out(warden_bin, tmp_path):
    log = tmp_path / "methods.log"
    started = time.monotonic()
    result = init(warden_bin, "--timeout", "5", "--", sys.executable, DRAFTING, "--silent", "--log", log)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert "did not list its tools within 5 s" in result.stderr, result.stderr
    assert result.stdout == ""
    assert "stderr ended with" not in result.stderr  # the silent server wrote nothing there either
    assert elapsed < 5 + 10, elapsed
    # Both greetings were tried on the one connection: discover, then initialize beside it.
    assert read_log(log) == ["server/discover", "initialize"]


def test_failures_are_clear(warden_bin, tmp_path):
    empty = init(warden_bin, "--timeout", TIMEOUT, "--", sys.executable, DRAFTING, "--tools", "none")
    assert empty.returncode == 1 and "listed no tools" in empty.stderr, empty.stderr
    missing = init(warden_bin, "--", str(tmp_path / "no-such-server"))
    assert missing.returncode == 1 and "cannot start" in missing.stderr, missing.stderr
    crashing = init(warden_bin, "--timeout", TIMEOUT, "--", sys.executable, "-c",
                    "import sys; print('no database \\x1b[2J here', file=sys.stderr); sys.exit(3)")
    assert crashing.returncode == 1 and "exited before it listed its tools" in crashing.stderr, crashing.stderr
    # The server's own stderr, kept aside while it ran, explains the failure (controls dropped).
    assert "the server's stderr ended with:\n  | no database [2J here" in crashing.stderr, crashing.stderr
    usage = init(warden_bin, "--server", "bad name", "--", sys.executable, DRAFTING)
    assert usage.returncode == 64, usage.stderr
    assert init(warden_bin).returncode == 64


def test_hostile_names_and_descriptions(warden_bin, tmp_path):
    drafted = init(warden_bin, "--timeout", TIMEOUT, "--", sys.executable, DRAFTING, "--tools", "hostile")
    assert drafted.returncode == 0, drafted.stderr
    draft = tmp_path / "draft.yaml"
    draft.write_text(drafted.stdout)
    lint = warden_cli(warden_bin, "manifest", "lint", "--json", draft)
    assert json.loads(lint.stdout)[0]["ok"] is True, lint.stdout
    assert json.loads(lint.stdout)[0]["tools"] == 4
    tools = parse_draft(drafted.stdout)
    assert set(tools) == {"x: {y: 1}", "# not a comment", "true", "caf\u00e9_ordering"}
    assert tools["# not a comment"]["destructive"] is True  # a string readOnlyHint is no hint
    assert 'left out tool "evil\\nname"' in drafted.stderr
    assert 'left out tool "true": listed twice' in drafted.stderr
    for line in drafted.stdout.splitlines():
        if "injected" in line or "pwn" in line or "\\u{1B}" in line:
            assert line.lstrip().startswith("#"), line
        assert not any(ch in line for ch in "\u2028\u2029\x85\x1b\u202e"), repr(line)
    # The hostile tool that claims read-only is checked as the draft says, nothing more.
    checked = warden_cli(warden_bin, "check", "--server", "drafting", "--manifest", draft, "--json", "true",
                         '{"id": 3}')
    assert json.loads(checked.stdout)["action"] == "drafting.read", checked.stdout
    assert os.path.getsize(draft) > 0
