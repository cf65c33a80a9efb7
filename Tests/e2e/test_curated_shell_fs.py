"""The curated manifests of a shell server (mcp-shell-server) and a filesystem server (filesystem-mcp),
against the real servers from PyPI, through `warden run` with the official SDK client.

For each server: every tool its `tools/list` names is declared in the built-in manifest, the test knows
every argument of each tool (a release that adds a tool or an argument fails here until the manifest
is reviewed), and every argument that selects a resource shows in the call's resources.

The shell: the human lists read-only programs in a user manifest (the example in the curated file's
header, uncommented); those run without a hold. The agent then tries every way found to run a second
program, or to write, past that rule: each is held and, nobody confirming, denied
`confirmation-timed-out`, or denied outright; the file a smuggled `rm` would delete is still there
and the server never saw the call. mcp-shell-server needs mcp 1.x: it runs from its own venv
(`.venv-shell`, see setup_venv.sh), the client from the suite's.

The filesystem: reads inside the granted tree run; `..` escapes and symbolic links out of it are
denied (warden decides the resolved path too); relative and `~` paths are denied; appends run,
overwrites are held; the human's manifests in warden's home cannot be written through it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import warden_cli
from sdk_support import (
    assert_allowed,
    assert_denied,
    call,
    calls_seen_by_server,
    dump,
    run_async,
    session,
    tapped,
    text_of,
)

CONFIRM_TIMEOUT = "0.5"


def shell_server_bin() -> str:
    """mcp-shell-server in the venv beside the suite's (`.venv` -> `.venv-shell`)."""
    path = Path(f"{sys.prefix}-shell") / "bin" / "mcp-shell-server"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not found: run Tests/e2e/setup_venv.sh (it makes the venv of mcp-shell-server)")
    return str(path)


def filesystem_server_bin() -> str:
    path = Path(sys.executable).parent / "filesystem-mcp"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not found: run Tests/e2e/setup_venv.sh")
    return str(path)


def check(warden_bin, server: str, tool: str, arguments: dict, manifest: Path | None = None) -> dict:
    """`warden check --json`: what warden decides for this call, without running anything."""
    options = ["--manifest", manifest] if manifest else []
    result = warden_cli(warden_bin, "check", "--server", server, *options, tool, json.dumps(arguments), "--json")
    assert result.returncode in (0, 2, 3), result.stderr
    return json.loads(result.stdout)


def assert_manifest_covers(warden_bin, server: str, listing: dict, known: dict, samples: dict) -> None:
    """Every listed tool is declared; its arguments are those the test knows; each selecting argument is read.

    `known[tool]` is (selecting, other): the arguments that choose what the call acts on, and the rest.
    `samples[tool]` is a call whose selecting arguments hold distinctive values: each must show in a
    resource warden computes for it.
    """
    tools = {tool["name"]: tool for tool in listing["tools"]}
    assert set(tools) == set(known), f"the server's tools changed: {sorted(tools)}; review the manifest"
    for name, tool in tools.items():
        selecting, other = known[name]
        properties = set(tool.get("inputSchema", {}).get("properties", {}))
        assert properties == selecting | other, f"{name}: arguments {sorted(properties)}; review the manifest"
        decision = check(warden_bin, server, name, samples[name])
        assert decision["reason"] not in ("undeclared", "undeclared-confirm"), decision
        assert decision["reason"] != "bad-arguments", decision
        resources = " ".join(decision.get("resources", []))
        for argument in selecting:
            value = samples[name][argument]
            for piece in value if isinstance(value, list) else [value]:
                assert str(piece).rstrip("/") in resources, f"{name}: '{argument}' is not read: {decision}"


# --------------------------------------------------------------------------------------------------
# mcp-shell-server

SHELL_ARGUMENTS = {"shell_execute": ({"command", "directory"}, {"stdin", "timeout"})}
# What the server itself runs at all (it refuses the rest, and always refuses shells, env, xargs):
# rm is among them, so that only warden stands between the agent and the file.
ALLOW_COMMANDS = "ls,cat,pwd,head,wc,grep,git,rm,find,touch,echo,sh,env,xargs,tee"


def user_shell_manifest(warden_bin) -> str:
    """The built-in shell manifest with the read-only rules of its header's example, uncommented."""
    curated = warden_cli(warden_bin, "manifest", "show", "shell", check=True).stdout
    lines = curated.splitlines()
    start = lines.index("#   shell_execute:")
    example = []
    for line in lines[start:]:
        if line.strip() in ("#     action: shell.run", "#     ..."):
            break
        example.append(line[4:])
    assert any("rules:" in line for line in example), example
    tools = curated.index("\n  shell_execute:\n")
    return curated[:tools] + "\n  " + "\n  ".join(example) + curated[tools + len("\n  shell_execute:") :]


@pytest.fixture
def shell_setup(warden_bin, warden_home, grant, tmp_path, git_repo):
    work = tmp_path / "work"
    work.mkdir()
    (work / "victim.txt").write_text("precious\n")
    (work / "notes.txt").write_text("alpha\nbeta\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (work / "elsewhere").symlink_to(outside)
    manifests = warden_home / "manifests"
    manifests.mkdir(mode=0o700)
    (manifests / "shell.yaml").write_text(user_shell_manifest(warden_bin))
    lint = warden_cli(warden_bin, "manifest", "lint", manifests / "shell.yaml")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for tree in (work, git_repo):
        grant("--server", "shell", "--allow", "shell.read,shell.run", "--on", f"dir:{tree}", "--on", f"dir:{tree}/**",
              "--on", "program:*", "--on", "word:**", purpose="look around the project")
    env = dict(os.environ, ALLOW_COMMANDS=ALLOW_COMMANDS, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("WARDEN_LOG", None)
    argv = [warden_bin, "run", "--server", "shell", "--confirm-timeout", CONFIRM_TIMEOUT, "--",
            *tapped(tmp_path / "inner", [shell_server_bin()])]
    return work, git_repo, outside, argv, env


def test_shell_manifest_covers_the_real_server(warden_bin, tmp_path):
    env = dict(os.environ, ALLOW_COMMANDS="ls")
    argv = [warden_bin, "run", "--server", "shell", "--", shell_server_bin()]

    async def scenario():
        async with session(argv, env=env) as client:
            return dump(await client.list_tools())

    listing = run_async(scenario)
    sample = {"command": ["ls", "-la"], "directory": str(tmp_path), "stdin": "x", "timeout": 5}
    assert_manifest_covers(warden_bin, "shell", listing, SHELL_ARGUMENTS, {"shell_execute": sample})
    # The curated manifest alone: every command is destructive, whatever it is.
    decision = check(warden_bin, "shell", "shell_execute", sample)
    assert decision["action"] == "shell.run" and decision["destructive"] is True, decision
    assert decision["resources"] == [f"dir:{tmp_path}", "word:ls", "word:-la"], decision


# Each: a command the agent sends to run a second program, write a file or run a program the human
# did not list, all through the read-only rule's door. `work` is the directory; victim.txt must survive.
SMUGGLED = [
    ["rm", "victim.txt"],
    ["ls", ";", "rm", "-rf", "victim.txt"],
    ["ls", "&&", "rm", "victim.txt"],
    ["ls", "||", "rm", "victim.txt"],
    ["ls", "&", "rm", "victim.txt"],
    ["cat", "notes.txt", "|", "sh"],
    ["ls", "|", "xargs", "rm"],
    ["ls", "|", "rm", "victim.txt"],
    ["ls", ">", "victim.txt"],
    ["ls", ">>", "victim.txt"],
    ["cat", "notes.txt", ">", "victim.txt"],
    ["cat", "<", "victim.txt"],
    ["ls", "2>", "victim.txt"],
    ["find", ".", "-delete"],
    ["find", ".", "-name", "victim.txt", "-exec", "rm", "{}", ";"],
    ["sh", "-c", "rm victim.txt"],
    ["ls;rm", "victim.txt"],
    ["ls", "victim.txt;rm victim.txt"],
    ["cat", "x|rm"],
    ["ls", "`rm victim.txt`"],
    ["ls", "$(rm victim.txt)"],
    ["/bin/rm", "victim.txt"],
    ["./rm", "victim.txt"],
    ["/usr/bin/ls"],
    [" ls"],
    ["ls "],
    ["LS"],
    ["", "rm", "victim.txt"],
    ["env", "rm", "victim.txt"],
    ["xargs", "rm"],
    ["tee", "victim.txt"],
    ["git", "log", "--oneline", "--output=victim.txt"],
    ["git", "-c", "core.pager=rm", "log", "--oneline"],
    ["git", "log"],
    ["git", "rm", "victim.txt"],
]

# Denied outright, never held: arguments warden cannot read as a scope.
MALFORMED = [
    ({"command": ["ls", "\nrm victim.txt"]}, "bad-arguments"),  # a control character in a word
    ({"command": "ls; rm victim.txt"}, "bad-arguments"),  # not an array
    ({"command": [["rm", "victim.txt"]]}, "bad-arguments"),  # an array in the array
    ({"command": [None, "rm", "victim.txt"]}, "bad-arguments"),  # the server drops null and empty words
]


def test_shell_read_only_programs_run_and_nothing_is_smuggled_past_them(warden_bin, shell_setup, tmp_path):
    work, repo, outside, argv, env = shell_setup
    directory = str(work)

    async def scenario():
        async with session(argv, env=env) as client:
            results = {
                "ls": await call(client, "shell_execute", {"command": ["ls", "-a"], "directory": directory}),
                "cat": await call(client, "shell_execute", {"command": ["cat", "notes.txt"], "directory": directory}),
                "grep": await call(client, "shell_execute",
                                   {"command": ["grep", "beta"], "directory": directory, "stdin": "alpha\nbeta\n"}),
                "git": await call(client, "shell_execute",
                                  {"command": ["git", "log", "--oneline"], "directory": str(repo)}),
            }
            for index, command in enumerate(SMUGGLED):
                results[f"smuggled-{index}"] = await call(
                    client, "shell_execute", {"command": command, "directory": directory})
            # A number where the program goes: the server would drop a falsy word and run the next.
            results["number"] = await call(client, "shell_execute", {"command": [0, "rm", "victim.txt"],
                                                                     "directory": directory})
            for index, (arguments, _) in enumerate(MALFORMED):
                results[f"malformed-{index}"] = await call(client, "shell_execute", {**arguments, "directory": directory})
            # Directories: none (the server's own working directory), relative, escaping the grant
            # with `..`, or through a symbolic link.
            results["no-directory"] = await call(client, "shell_execute", {"command": ["rm", "victim.txt"]})
            results["relative"] = await call(client, "shell_execute", {"command": ["ls"], "directory": "work"})
            results["dotdot"] = await call(client, "shell_execute",
                                           {"command": ["ls"], "directory": f"{directory}/../outside"})
            results["symlink"] = await call(client, "shell_execute",
                                            {"command": ["ls"], "directory": f"{directory}/elsewhere"})
            return results

    results = run_async(scenario)
    assert "victim.txt" in text_of(assert_allowed(results["ls"]))
    assert text_of(assert_allowed(results["cat"])) == "alpha\nbeta"
    assert text_of(assert_allowed(results["grep"])) == "beta"
    assert "Initial commit" in text_of(assert_allowed(results["git"]))

    for index, command in enumerate(SMUGGLED):
        decision = assert_denied(results[f"smuggled-{index}"], "confirmation-timed-out")
        assert decision["action"] == "shell.run", (command, decision)
    assert_denied(results["number"], "confirmation-timed-out")
    for index, (arguments, reason) in enumerate(MALFORMED):
        assert_denied(results[f"malformed-{index}"], reason)
    assert_denied(results["no-directory"], "bad-arguments")
    assert_denied(results["relative"], "bad-arguments")
    assert assert_denied(results["dotdot"], "not-delegated")["uncovered"] == [f"dir:{outside}"]
    assert f"dir:{outside}" in assert_denied(results["symlink"], "not-delegated")["uncovered"]

    assert (work / "victim.txt").read_text() == "precious\n"
    assert sorted(p.name for p in work.iterdir()) == ["elsewhere", "notes.txt", "victim.txt"]
    seen = [c["arguments"]["command"] for c in calls_seen_by_server(tmp_path / "inner")]
    assert seen == [["ls", "-a"], ["cat", "notes.txt"], ["grep", "beta"], ["git", "log", "--oneline"]]


def test_shell_a_held_rm_runs_once_a_human_approves(warden_bin, shell_setup, tmp_path):
    """The hold is the only thing between the agent and rm: approved, the same call runs."""
    work, _, _, argv, env = shell_setup
    def approve_when_held():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pending = json.loads(warden_cli(warden_bin, "holds", "--json", check=True).stdout)
            if pending:
                assert pending[0]["arguments"] == {"command": ["rm", "victim.txt"], "directory": str(work)}
                warden_cli(warden_bin, "approve", pending[0]["id"], check=True)
                return
            time.sleep(0.05)

    argv = [a if a != CONFIRM_TIMEOUT else "20" for a in argv]
    threading.Thread(target=approve_when_held, daemon=True).start()

    async def scenario():
        async with session(argv, env=env) as client:
            return await call(client, "shell_execute", {"command": ["rm", "victim.txt"], "directory": str(work)})

    assert_allowed(run_async(scenario))
    assert not (work / "victim.txt").exists()


# --------------------------------------------------------------------------------------------------
# filesystem-mcp

FS_ARGUMENTS = {
    "list_allowed_directories": (set(), set()),
    "list_directory": ({"path"}, set()),
    "read_file": ({"path"}, {"encoding"}),
    "write_file": ({"path"}, {"content", "append", "encoding"}),
}


@pytest.fixture
def fs_tree(tmp_path):
    root = tmp_path / "root"
    docs = root / "docs"
    docs.mkdir(parents=True)
    (docs / "a.txt").write_text("first\n")
    (root / "secret.txt").write_text("the secret\n")
    (docs / "to-secret").symlink_to(root / "secret.txt")
    (docs / "up").symlink_to(root)
    return root, docs


def test_filesystem_manifest_covers_the_real_server(warden_bin, fs_tree):
    root, docs = fs_tree
    argv = [warden_bin, "run", "--server", "filesystem", "--", filesystem_server_bin(), root]

    async def scenario():
        async with session(argv) as client:
            return dump(await client.list_tools())

    listing = run_async(scenario)
    file = str(docs / "a.txt")
    samples = {
        "list_allowed_directories": {},
        "list_directory": {"path": str(docs)},
        "read_file": {"path": file, "encoding": "utf-8"},
        "write_file": {"path": file, "content": "x", "append": True, "encoding": "utf-8"},
    }
    assert_manifest_covers(warden_bin, "filesystem", listing, FS_ARGUMENTS, samples)
    overwrite = check(warden_bin, "filesystem", "write_file", {"path": file, "content": "x"})
    assert overwrite["action"] == "fs.write" and overwrite["destructive"] is True, overwrite
    append = check(warden_bin, "filesystem", "write_file", {"path": file, "content": "x", "append": True})
    assert append["action"] == "fs.append" and append["destructive"] is False, append


def test_filesystem_reads_inside_the_grant_and_nothing_else(warden_bin, warden_home, grant, fs_tree, tmp_path):
    root, docs = fs_tree
    manifests = warden_home / "manifests"
    manifests.mkdir(mode=0o700)
    (manifests / "keep.yaml").write_text("server: keep\ntools: {}\n")
    grant("--server", "filesystem", "--allow", "fs.list,fs.read,fs.append,fs.write",
          "--on", f"file:{docs}", "--on", f"file:{docs}/**", purpose="edit the docs")
    # The server may touch the whole tmp tree and warden's home: warden alone keeps the agent out.
    argv = [warden_bin, "run", "--server", "filesystem", "--confirm-timeout", CONFIRM_TIMEOUT, "--",
            *tapped(tmp_path / "inner", [filesystem_server_bin(), tmp_path, warden_home])]
    a = str(docs / "a.txt")

    async def scenario():
        async with session(argv) as client:
            return {
                "roots": await call(client, "list_allowed_directories", {}),
                "list": await call(client, "list_directory", {"path": str(docs)}),
                "read": await call(client, "read_file", {"path": a}),
                "append": await call(client, "write_file", {"path": a, "content": "second\n", "append": True}),
                "new": await call(client, "write_file", {"path": str(docs / "b.txt"), "content": "b\n", "append": True}),
                "overwrite": await call(client, "write_file", {"path": a, "content": "gone\n"}),
                "append-false": await call(client, "write_file", {"path": a, "content": "gone\n", "append": False}),
                "dotdot": await call(client, "read_file", {"path": f"{docs}/../secret.txt"}),
                "link": await call(client, "read_file", {"path": str(docs / "to-secret")}),
                "link-dir": await call(client, "read_file", {"path": str(docs / "up" / "secret.txt")}),
                "list-root": await call(client, "list_directory", {"path": str(root)}),
                "list-up": await call(client, "list_directory", {"path": f"{docs}/up"}),
                "relative": await call(client, "read_file", {"path": "root/docs/a.txt"}),
                "home": await call(client, "read_file", {"path": "~/secret.txt"}),
                "dollar": await call(client, "read_file", {"path": f"{docs}/$HOME"}),
                "manifest": await call(client, "write_file", {"path": str(manifests / "shell.yaml"),
                                                              "content": "server: shell\n", "append": True}),
                "reread": await call(client, "read_file", {"path": a}),
            }

    results = run_async(scenario)
    assert str(tmp_path) in text_of(assert_allowed(results["roots"]))
    assert "a.txt" in text_of(assert_allowed(results["list"]))
    assert assert_allowed(results["read"])["structuredContent"]["content"] == "first\n"
    assert assert_allowed(results["append"])["structuredContent"]["appended"] is True
    assert_allowed(results["new"])
    assert assert_denied(results["overwrite"], "confirmation-timed-out")["action"] == "fs.write"
    assert assert_denied(results["append-false"], "confirmation-timed-out")["action"] == "fs.write"
    secret = f"file:{root}/secret.txt"
    assert assert_denied(results["dotdot"], "not-delegated")["uncovered"] == [secret]
    assert assert_denied(results["link"], "not-delegated")["uncovered"] == [secret]
    assert assert_denied(results["link-dir"], "not-delegated")["uncovered"] == [secret]
    assert assert_denied(results["list-root"], "not-delegated")["uncovered"] == [f"file:{root}"]
    assert assert_denied(results["list-up"], "not-delegated")["uncovered"] == [f"file:{root}"]
    for name in ("relative", "home", "dollar"):
        assert_denied(results[name], "bad-arguments")
    assert_denied(results["manifest"], "protected-path")
    assert assert_allowed(results["reread"])["structuredContent"]["content"] == "first\nsecond\n"

    assert (docs / "a.txt").read_text() == "first\nsecond\n"
    assert (docs / "b.txt").read_text() == "b\n"
    assert not (manifests / "shell.yaml").exists()
    seen = [(c["name"], c["arguments"].get("path")) for c in calls_seen_by_server(tmp_path / "inner")]
    assert seen == [
        ("list_allowed_directories", None), ("list_directory", str(docs)), ("read_file", a), ("write_file", a),
        ("write_file", str(docs / "b.txt")), ("read_file", a),
    ], seen
