"""Identity: a real MCP client sees the same session with and without warden in between.

Each test runs one scripted session with the official Python SDK (mcp 2.3.0) against a real server,
once directly and once through `warden run --`, in both protocol eras, and asserts that everything
the client observed (negotiated version, server info, capabilities, every result and every error) is
identical. Nothing is normalized except values that legitimately differ between two runs, each named
where it is done, and warden's documented amendments, which are removed and checked separately.

Warden enforces a delegation on every tools/call, so each test first issues a grant (in the test's own
temporary store) covering every call its script makes. Two kinds of call cannot be covered by any
grant, by design: a call to a tool the manifest does not declare ("unknown tool") and a call whose
arguments do not fit the manifest ("missing argument"). Through warden those are answered by warden
itself (checked below: a tool result with isError and the reason, and the server never sees them);
everything else must be identical. Warden's amendments (see ResultAmender): each tools/list tool's
description gets "\n\n[warden: ...]" and _meta["dev.warden/delegation"], an initialize or
server/discover result gets the delegation summary appended to `instructions` and
capabilities.tools.listChanged = true. Results of allowed tools/call requests are not amended at all:
on the wire they are byte-identical.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio
import pytest

from conftest import (
    DECISION_META,
    DESTRUCTIVE,
    GIT_ACTIONS,
    MAILBOX_ACTIONS,
    MISSING,
    SERVERS_DIR,
    SUMMARY_START,
    TIME_ACTIONS,
    child_env,
    expected_marks,
    strip_handshake,
    strip_tool_list,
)

TAP = SERVERS_DIR / "tap.py"

mcp = pytest.importorskip("mcp", reason="the mcp SDK is not installed: run Tests/e2e/setup_venv.sh")
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from mcp_types import Implementation  # noqa: E402

# (Client mode, protocol version the session must end up on). "legacy" runs the initialize
# handshake; "auto" probes server/discover and must land on the 2026-07-28 per-request era, since
# every server under test speaks it (a handshake-only server is detected and its modern half skipped);
# a pinned "2026-07-28" skips server/discover and starts with per-request calls at once.
ERAS = [
    pytest.param("legacy", "2025-11-25", id="handshake-2025-11-25"),
    pytest.param("auto", "2026-07-28", id="per-request-2026-07-28"),
    pytest.param("2026-07-28", "2026-07-28", id="per-request-pinned-no-discover"),
]

SESSION_TIMEOUT = 60.0

Script = Callable[[Client], Awaitable[list]]


def dump(model: Any) -> Any:
    """A pydantic model as the JSON the SDK would put on the wire."""
    if model is None:
        return None
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def step(name: str, call: Awaitable[Any]) -> tuple:
    """One scripted call: its result, or the JSON-RPC error it raised (an expected outcome too)."""
    try:
        return (name, "result", dump(await call))
    except MCPError as error:
        return (name, "error", error.error.code, error.error.message, error.error.data)


def run_session(argv: list, mode: str, script: Script, env: dict[str, str]) -> dict:
    """Runs `script` in one SDK session with the server `argv`; returns what the client saw."""
    command, args = str(argv[0]), [str(a) for a in argv[1:]]

    async def session() -> dict:
        params = StdioServerParameters(command=command, args=args, env=env)
        with tempfile.TemporaryFile("w+") as errlog:
            try:
                with anyio.fail_after(SESSION_TIMEOUT):
                    # The transport is built here rather than by Client(params) to catch the child's
                    # stderr; Client accepts any transport context manager.
                    async with Client(
                        stdio_client(params, errlog=errlog),
                        mode=mode,
                        read_timeout_seconds=20,
                        cache=None,  # every call must reach the server, not a client-side cache
                        client_info=Implementation(name="warden-e2e", version="1.0"),
                    ) as client:
                        return {
                            "protocol_version": client.protocol_version,
                            "server_info": dump(client.server_info),
                            "capabilities": dump(client.server_capabilities),
                            "instructions": client.instructions,
                            "steps": await script(client),
                        }
            except BaseException:
                errlog.seek(0)
                sys.stderr.write(f"--- stderr of {command} {args}:\n{errlog.read()}\n")
                raise

    return anyio.run(session)


def tapped(prefix: Path, command: list[str]) -> list[str]:
    """`command` behind servers/tap.py, which records every byte crossing that hop to prefix.c2s/.s2c."""
    return [sys.executable, str(TAP), str(prefix), "--", *map(str, command)]


def wire(prefix: Path) -> dict[str, bytes]:
    return {d: Path(f"{prefix}.{d}").read_bytes() if Path(f"{prefix}.{d}").exists() else b"" for d in ("c2s", "s2c")}


def run_both(
    warden_bin: Path, server: str, command: list[str], mode: str, script: Script, env: dict[str, str], taps: Path
):
    """The session directly and through warden, with byte taps on every hop.

    Direct:   SDK -> tap(direct) -> server
    Proxied:  SDK -> tap(outer) -> warden run --server NAME -- tap(inner) -> server

    (--server: warden would otherwise name the server after the tap's interpreter and find no manifest.)
    Returns what the SDK saw in each run and the bytes of each hop.
    """
    direct = run_session(tapped(taps / "direct", command), mode, script, env)
    proxied = run_session(
        tapped(taps / "outer", [warden_bin, "run", "--server", server, "--", *tapped(taps / "inner", command)]),
        mode,
        script,
        env,
    )
    return direct, proxied, {name: wire(taps / name) for name in ("direct", "outer", "inner")}


FIRST_METHOD = {"legacy": "initialize", "auto": "server/discover", "2026-07-28": "tools/list"}


def assert_era_on_the_wire(hops: dict[str, dict[str, bytes]], mode: str) -> None:
    """The session really ran in the era under test: its first request is the era's opening move."""
    first = json.loads(hops["inner"]["c2s"].split(b"\n", 1)[0])
    assert first.get("method") == FIRST_METHOD[mode], first
    if mode != "legacy":
        meta = first.get("params", {}).get("_meta", {})
        assert meta.get("io.modelcontextprotocol/protocolVersion") == "2026-07-28", first


def _lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    assert lines[-1] == b"", f"unterminated last line on a hop: {lines[-1][:200]!r}"
    return [line + b"\n" for line in lines[:-1]]


def _key(message: dict) -> str:
    return json.dumps(message.get("id"))


def assert_wire_identical(hops: dict[str, dict[str, bytes]], denied: dict[str, str], mask=lambda data: data) -> None:
    """Byte-level identity of the session: warden forwarded each byte both ways, except its documented
    amendments and the calls it denied, and the proxied session is the direct one. `denied` maps the
    calls warden must deny by design, (tool name, JSON of the arguments with sorted keys), to the reason; `mask` hides only values that
    legitimately differ between two runs."""
    outer, inner, direct = hops["outer"], hops["inner"], hops["direct"]
    assert outer["c2s"] and outer["s2c"], "the tap recorded nothing"
    # The client sent the same bytes in both runs.
    assert outer["c2s"] == direct["c2s"], "the SDK's own bytes differ between the runs"

    client_lines = _lines(outer["c2s"])
    methods, denied_ids = {}, {}
    for line in client_lines:
        message = json.loads(line)
        if "method" in message and "id" in message:
            methods[_key(message)] = message["method"]
            call = (message["params"]["name"], json.dumps(message["params"].get("arguments", {}), sort_keys=True)) if message["method"] == "tools/call" else None
            if call in denied:
                denied_ids[_key(message)] = denied[call]
    assert len(denied_ids) == len(denied), (denied_ids, denied)

    # Client -> server: every line but the denied calls, exactly as sent, nothing else.
    forwarded = [line for line in client_lines if _key(json.loads(line)) not in denied_ids or "method" not in json.loads(line)]
    assert _lines(inner["c2s"]) == forwarded, "the server did not receive exactly the bytes the client sent (less the denied calls)"

    # Server -> client: warden's answers to the denied calls, and the server's lines, in order, as sent
    # except the amended results.
    from_server = _lines(inner["s2c"])
    to_client = _lines(outer["s2c"])
    refusals = [line for line in to_client if "method" not in json.loads(line) and _key(json.loads(line)) in denied_ids]
    assert len(refusals) == len(denied_ids), refusals
    for line in refusals:
        message = json.loads(line)
        assert message["result"]["isError"] is True, message
        assert message["result"]["_meta"][DECISION_META]["reason"] == denied_ids[_key(message)], message
    relayed = [line for line in to_client if line not in refusals]
    assert len(relayed) == len(from_server), "warden added or dropped lines from the server"
    amended = 0
    for through, original_line in zip(relayed, from_server):
        original = json.loads(original_line)
        method = methods.get(_key(original)) if "method" not in original else None
        if method not in ("initialize", "server/discover", "tools/list") or "result" not in original:
            assert through == original_line, "a server line changed on its way through warden"
            continue
        amended += 1
        message = json.loads(through)
        assert list(message) == ["jsonrpc", "id", "result"] and message["id"] == original["id"], message
        if method == "tools/list":
            stripped, _ = strip_tool_list(message["result"])
        else:
            tools = original["result"].get("capabilities", {}).get("tools", {})
            stripped, amendments = strip_handshake(message["result"], tools.get("listChanged", MISSING))
            assert amendments.get("listChanged") is True, amendments
        # With the amendments removed: the server's result, the same members in the same order.
        assert json.dumps(stripped, ensure_ascii=False) == json.dumps(original["result"], ensure_ascii=False)
    assert amended >= 1, "no amended result was checked"

    # Two sessions: the server said the same through warden as directly (where it also answered the
    # calls warden denied, since nothing stopped them).
    direct_server = [line for line in _lines(direct["s2c"]) if _key(json.loads(line)) not in denied_ids]
    assert [mask(line) for line in from_server] == [mask(line) for line in direct_server], (
        "the server's answers differ through warden"
    )


def assert_identical(direct: dict, proxied: dict) -> None:
    # Through JSON once, so tuples and lists (and the path substitution below) compare alike.
    direct, proxied = json.loads(json.dumps(direct)), json.loads(json.dumps(proxied))
    if direct != proxied:
        # A readable diff in the failure message: one JSON document per side.
        a = json.dumps(direct, indent=1, sort_keys=True, ensure_ascii=False).splitlines()
        b = json.dumps(proxied, indent=1, sort_keys=True, ensure_ascii=False).splitlines()
        import difflib

        diff = "\n".join(difflib.unified_diff(a, b, "direct", "through warden", lineterm="", n=2))
        raise AssertionError(f"the session differs through warden:\n{diff[:6000]}")


def take_denied(proxied: dict, direct: dict, denied: dict[str, str]) -> None:
    """Removes the steps warden denies by design from both runs, after checking them: directly, the
    server's own error; through warden, a tool result with isError and warden's reason."""
    for name, reason in denied.items():
        through = next(step for step in proxied["steps"] if step[0] == name)
        own = next(step for step in direct["steps"] if step[0] == name)
        assert through[1] == "result" and through[2]["isError"] is True, through
        decision = through[2]["_meta"][DECISION_META]
        assert decision["reason"] == reason and decision["verdict"] == "deny", decision
        assert "Warden denied this call" in through[2]["content"][0]["text"], through
        assert own != through, own
        proxied["steps"].remove(through)
        direct["steps"].remove(own)


def marks_for(actions: dict[str, str], granted: set[str] | None = None):
    """The mark each tool must carry under a grant of the actions `granted` (None: every action):
    delegated, or needing confirmation when destructive; not delegated when its action is not
    granted, and without an action when the manifest does not declare the tool."""

    def expect(name: str) -> dict:
        if name not in actions:
            return expected_marks("not-delegated", None)
        if granted is not None and actions[name] not in granted:
            return expected_marks("not-delegated", actions[name])
        return expected_marks("needs-confirmation" if name in DESTRUCTIVE else "delegated", actions[name])

    return expect


def strip_client_view(proxied: dict, direct: dict, server: str, expect_mark, purpose: str) -> dict:
    """What the SDK saw through warden with warden's amendments removed, after checking each of them:
    the delegation summary (naming the server and the grant's purpose), listChanged, and the mark on
    every tool (`expect_mark(name)`, see marks_for)."""
    proxied = json.loads(json.dumps(proxied))
    if direct["instructions"] is not None or proxied["instructions"] is not None:
        stripped, amendments = strip_handshake(
            {"instructions": proxied["instructions"], "capabilities": proxied["capabilities"]},
            (direct["capabilities"] or {}).get("tools", {}).get("listChanged", MISSING),
        )
        summary = amendments["summary"]
        assert summary.startswith(f"{SUMMARY_START} ('{server}')"), summary
        assert purpose in summary and "In force:" in summary, summary
        assert amendments.get("listChanged") is True, amendments
        proxied["instructions"] = stripped.get("instructions")
        proxied["capabilities"] = stripped["capabilities"]
    for index, step in enumerate(proxied["steps"]):
        if step[0].startswith("tools/list"):
            stripped, marks = strip_tool_list(step[2])
            assert marks, "tools/list listed no tools"
            for name, mark in marks.items():
                assert mark == expect_mark(name), (name, mark)
            proxied["steps"][index] = [*step[:2], stripped]
    return proxied


# --------------------------------------------------------------------------------------------------
# mcp-server-git


def git_script(repo: Path) -> Script:
    repo_path = str(repo)

    async def script(client: Client) -> list:
        return [
            await step("tools/list", client.list_tools()),
            await step("git_status", client.call_tool("git_status", {"repo_path": repo_path})),
            await step("git_log", client.call_tool("git_log", {"repo_path": repo_path, "max_count": 5})),
            await step("git_diff_unstaged", client.call_tool("git_diff_unstaged", {"repo_path": repo_path})),
            await step("git_diff_staged", client.call_tool("git_diff_staged", {"repo_path": repo_path})),
            await step("git_show", client.call_tool("git_show", {"repo_path": repo_path, "revision": "HEAD"})),
            await step("git_branch", client.call_tool("git_branch", {"repo_path": repo_path, "branch_type": "local"})),
            # Tool failures: a path outside the allowed repository, a missing required argument, an
            # unknown revision (results with isError), and an unknown tool (a JSON-RPC error).
            await step("outside repo", client.call_tool("git_status", {"repo_path": "/nonexistent/elsewhere"})),
            await step("missing argument", client.call_tool("git_log", {})),
            await step("bad revision", client.call_tool("git_show", {"repo_path": repo_path, "revision": "nope^^"})),
            await step("unknown tool", client.call_tool("no_such_tool", {})),
            await step("tools/list again", client.list_tools()),
        ]

    return script


# Steps of the scripts that no grant can cover (see the module's docstring), by tool, with warden's reason.
GIT_DENIED = {"missing argument": ("git_log", {}, "bad-arguments"), "unknown tool": ("no_such_tool", {}, "undeclared")}
TIME_DENIED = {"unknown tool": ("no_such_tool", {}, "undeclared")}
MAILBOX_DENIED = TIME_DENIED


def steps_denied(denied: dict) -> dict[str, str]:
    return {step: reason for step, (_, _, reason) in denied.items()}


def tools_denied(denied: dict) -> dict[tuple, str]:
    return {(tool, json.dumps(arguments, sort_keys=True)): reason for tool, arguments, reason in denied.values()}


@pytest.mark.parametrize(("mode", "version"), ERAS)
def test_git_server_identical_through_warden(warden_bin, git_server_bin, git_repo, tmp_path, grant, mode, version):
    purpose = "identity test: every git tool the script calls"
    grant("--server", "git", "--allow", "git.**", purpose=purpose)
    env = child_env()
    command = [git_server_bin, "--repository", str(git_repo)]
    direct, proxied, hops = run_both(warden_bin, "git", command, mode, git_script(git_repo), env, tmp_path)

    assert direct["protocol_version"] == version
    if mode != "2026-07-28":  # a pinned session never asks the server who it is
        assert direct["server_info"]["name"] == "mcp-git"
    steps = {s[0]: s for s in direct["steps"]}
    # The direct half really exercised what it claims: the fixture repo's state shows up...
    assert "an unstaged change" in json.dumps(steps["git_diff_unstaged"])
    assert "staged.txt" in json.dumps(steps["git_diff_staged"])
    assert "Add gamma" in json.dumps(steps["git_log"])
    # ...and the error cases are errors.
    assert steps["outside repo"][2]["isError"] is True
    assert steps["missing argument"][2]["isError"] is True
    assert steps["unknown tool"][1:3] == ("error", -32602)

    take_denied(proxied, direct, steps_denied(GIT_DENIED))
    assert_identical(direct, strip_client_view(proxied, direct, "git", marks_for(GIT_ACTIONS), purpose))
    assert_wire_identical(hops, tools_denied(GIT_DENIED))
    assert_era_on_the_wire(hops, mode)


# --------------------------------------------------------------------------------------------------
# mcp-server-time

ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)")
ISO_DATETIME_BYTES = re.compile(ISO_DATETIME.pattern.encode())


def normalize_current_time(result: Any) -> Any:
    """Replaces the wall-clock reading in a get_current_time result with a placeholder.

    get_current_time answers with the current time, which legitimately differs between the direct and
    the proxied run (seconds apart). Only that one value is masked, and it must be present on both
    sides in the form the server documents; the rest of the result (timezone, structure, text
    layout, isError) is compared exactly.
    """
    text = json.dumps(result, ensure_ascii=False)
    masked, count = ISO_DATETIME.subn("<now>", text)
    assert count >= 1, f"no datetime in get_current_time result: {text}"
    return json.loads(masked)


def time_script() -> Script:
    async def script(client: Client) -> list:
        steps = [
            await step("tools/list", client.list_tools()),
            await step("get_current_time", client.call_tool("get_current_time", {"timezone": "Europe/Warsaw"})),
            await step("get_current_time UTC", client.call_tool("get_current_time", {"timezone": "UTC"})),
            await step(
                "convert_time",
                client.call_tool(
                    "convert_time",
                    {"source_timezone": "Europe/Warsaw", "time": "14:30", "target_timezone": "Asia/Tokyo"},
                ),
            ),
            await step(
                "convert_time bad hour",
                client.call_tool(
                    "convert_time", {"source_timezone": "UTC", "time": "25:99", "target_timezone": "Asia/Tokyo"}
                ),
            ),
            await step("bad timezone", client.call_tool("get_current_time", {"timezone": "Not/AZone"})),
            await step("unknown tool", client.call_tool("no_such_tool", {})),
        ]
        for index, entry in enumerate(steps):
            if entry[0].startswith("get_current_time") and entry[1] == "result":
                steps[index] = (*entry[:2], normalize_current_time(entry[2]))
        return steps

    return script


@pytest.mark.parametrize(("mode", "version"), ERAS)
def test_time_server_identical_through_warden(warden_bin, time_server_bin, tmp_path, grant, mode, version):
    purpose = "identity test: read the clock"
    grant("--server", "time", "--allow", "time.**", purpose=purpose)
    env = child_env()
    command = [time_server_bin, "--local-timezone", "UTC"]
    direct, proxied, hops = run_both(warden_bin, "time", command, mode, time_script(), env, tmp_path)

    assert direct["protocol_version"] == version
    if mode != "2026-07-28":
        assert direct["server_info"]["name"] == "mcp-time"
    steps = {s[0]: s for s in direct["steps"]}
    assert steps["get_current_time"][2]["structuredContent"]["timezone"] == "Europe/Warsaw"
    assert steps["convert_time"][2]["structuredContent"]["target"]["timezone"] == "Asia/Tokyo"
    assert steps["bad timezone"][2]["isError"] is True
    assert steps["unknown tool"][1:3] == ("error", -32602)

    take_denied(proxied, direct, steps_denied(TIME_DENIED))
    assert_identical(direct, strip_client_view(proxied, direct, "time", marks_for(TIME_ACTIONS), purpose))
    # The wall-clock readings are the only bytes allowed to differ (see normalize_current_time).
    assert_wire_identical(hops, tools_denied(TIME_DENIED), mask=lambda data: ISO_DATETIME_BYTES.sub(b"<now>", data))
    assert_era_on_the_wire(hops, mode)


# --------------------------------------------------------------------------------------------------
# warden-example-mailbox (written alongside warden; its tool names are discovered, not assumed)


def _ids_in(value: Any) -> list:
    """Every value of an `id`-like key (id, message_id, messageId, uid) anywhere in `value`."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() in ("id", "message_id", "messageid", "uid") and isinstance(item, (str, int)):
                found.append(item)
            found.extend(_ids_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_ids_in(item))
    return found


def mailbox_script() -> Script:
    async def script(client: Client) -> list:
        listing = await client.list_tools()
        steps = [("tools/list", "result", dump(listing))]
        tools = {tool.name: tool for tool in listing.tools}
        list_tool = "list_messages" if "list_messages" in tools else next((n for n in tools if "list" in n), None)
        read_tool = "read_message" if "read_message" in tools else next((n for n in tools if "read" in n), None)
        assert list_tool and read_tool, f"expected a list and a read tool, got {sorted(tools)}"

        listed = await step(list_tool, client.call_tool(list_tool, {}))
        steps.append(listed)
        assert listed[1] == "result" and not listed[2].get("isError"), listed

        ids = _ids_in(listed[2].get("structuredContent"))
        if not ids:  # fall back to the text: "id: X", "#X", "[X]"
            text = " ".join(c.get("text", "") for c in listed[2].get("content", []))
            ids = re.findall(r"\bid\W{1,3}([\w.-]+)", text, re.IGNORECASE)
        assert ids, f"cannot find a message id in the {list_tool} result: {listed[2]}"

        schema = tools[read_tool].input_schema or {}
        required = schema.get("required") or list((schema.get("properties") or {}).keys())[:1]
        assert len(required) == 1, f"{read_tool} takes {required}; the script passes one message id"
        key = required[0]
        prop_type = ((schema.get("properties") or {}).get(key) or {}).get("type")
        first = ids[0]
        if prop_type == "integer" and isinstance(first, str) and first.isdigit():
            first = int(first)
        elif prop_type == "string":
            first = str(first)
        steps.append(await step(f"{read_tool} first", client.call_tool(read_tool, {key: first})))
        if len(ids) > 1:
            steps.append(await step(f"{read_tool} last", client.call_tool(read_tool, {key: ids[-1]})))
        missing = 987654321 if prop_type == "integer" else "no-such-message-987654321"
        steps.append(await step(f"{read_tool} missing", client.call_tool(read_tool, {key: missing})))
        if prop_type != "integer":
            steps.append(await step(f"{read_tool} bad id", client.call_tool(read_tool, {key: "../../etc/passwd"})))
        steps.append(await step(f"{list_tool} limit", client.call_tool(list_tool, {"limit": 1})))
        steps.append(await step(f"{list_tool} bad limit", client.call_tool(list_tool, {"limit": "many"})))
        steps.append(await step("unknown tool", client.call_tool("no_such_tool", {})))
        return steps

    return script


@pytest.mark.parametrize(("mode", "version"), ERAS)
def test_mailbox_server_identical_through_warden(warden_bin, mailbox_bin, tmp_path, grant, mode, version):
    purpose = "identity test: list and read the mailbox"
    grant("--server", "mailbox", "--allow", "mail.list,mail.read", purpose=purpose)
    env = child_env()
    # Each run gets its own freshly seeded mailbox, so neither run can see the other's effects.
    direct_box, proxied_box = tmp_path / "direct-box", tmp_path / "proxied-box"
    direct = run_session(
        tapped(tmp_path / "direct", [mailbox_bin, "--mailbox", direct_box, "--seed"]), mode, mailbox_script(), env
    )
    if direct["protocol_version"] != version:
        pytest.skip(f"warden-example-mailbox negotiated {direct['protocol_version']} when asked for {version}")
    inner = tapped(tmp_path / "inner", [mailbox_bin, "--mailbox", proxied_box, "--seed"])
    proxied = run_session(
        tapped(tmp_path / "outer", [warden_bin, "run", "--server", "mailbox", "--", *inner]), mode, mailbox_script(), env
    )
    hops = {name: wire(tmp_path / name) for name in ("direct", "outer", "inner")}
    steps = {s[0]: s for s in direct["steps"]}
    reads = [s for name, s in steps.items() if name.endswith(" first")]
    assert reads and reads[0][1] == "result" and reads[0][2].get("isError") is not True, reads
    assert steps["unknown tool"][1] == "error", steps["unknown tool"]
    # Paths in results would name the two different mailbox directories; make them one name. This is
    # the only difference the two runs are allowed to have.
    proxied = json.loads(json.dumps(proxied).replace(str(proxied_box), str(direct_box)))
    take_denied(proxied, direct, steps_denied(MAILBOX_DENIED))
    # The grant covers listing and reading only: the other declared tools are marked not delegated.
    expect = marks_for(MAILBOX_ACTIONS, granted={"mail.list", "mail.read"})
    assert_identical(direct, strip_client_view(proxied, direct, "mailbox", expect, purpose))
    assert_wire_identical(
        hops,
        tools_denied(MAILBOX_DENIED),
        mask=lambda data: data.replace(str(proxied_box).encode(), str(direct_box).encode()),
    )
    assert_era_on_the_wire(hops, mode)

