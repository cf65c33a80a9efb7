"""Issue 17: `warden doctor` checks a deployment and changes nothing, and `make install` stages the
binary and its completions. Each test starts from the fixture's fresh home (config.yaml with
`scripted: allow`); the store is made by a real `warden grants`, configurations by a real `warden wrap`.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, child_env, warden_cli

FINDING_KEYS = {"check", "severity", "message", "fix", "config", "server", "path"}


@pytest.fixture
def cli(warden_bin):
    def run(*args, **kwargs):
        return warden_cli(warden_bin, *args, **kwargs)

    return run


def doctor(cli, *args) -> tuple[int, dict]:
    result = cli("doctor", "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def of(report: dict, check: str) -> list[dict]:
    return [f for f in report["findings"] if f["check"] == check]


def tree_digest(root: Path) -> str:
    """Names, kinds, modes, sizes, mtimes and contents of everything under root."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")) + [root]:
        info = path.lstat()
        digest.update(f"{path.relative_to(root)}|{info.st_mode:o}|{info.st_size}|{info.st_mtime_ns}\n".encode())
        if stat.S_ISREG(info.st_mode):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def mcp_config(directory: Path, servers: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}, indent=2) + "\n")
    return path


def test_a_clean_home_has_no_problem_and_json_has_the_stable_shape(cli, warden_home):
    cli("grants", check=True)  # creates the store, as the first command does
    status, report = doctor(cli)
    assert status == 0, report
    assert report["status"] == 0 and report["home"] == str(warden_home)
    assert set(report) == {"home", "user", "status", "summary", "findings"}
    for finding in report["findings"]:
        assert set(finding) == FINDING_KEYS, finding
        assert finding["severity"] in ("ok", "warning", "problem")
    assert {k: sum(f["severity"] == k for f in report["findings"]) for k in ("ok", "warning", "problem")} == report["summary"]
    [store] = of(report, "store")
    assert store["severity"] == "ok" and "schema is current" in store["message"], store
    [same_user] = of(report, "same-user")
    assert same_user["severity"] == "warning" and "approve its own calls" in same_user["message"]
    # The suite's scripted: allow is a warning, never a problem.
    assert of(report, "scripted")[0]["fix"] == "scripted: deny"
    text = cli("doctor")
    assert text.returncode == 0 and text.stdout.rstrip().endswith("ok"), text.stdout


@pytest.mark.parametrize("target", ["home", "store"])
def test_a_home_or_store_others_can_read_is_a_problem(cli, warden_home, target):
    cli("grants", check=True)
    path = warden_home if target == "home" else warden_home / "warden.db"
    path.chmod(0o755 if target == "home" else 0o644)
    status, report = doctor(cli)
    assert status == 1
    problems = [f for f in report["findings"] if f["severity"] == "problem"]
    assert [f["path"] for f in problems] == [str(path)], problems
    mode = "700" if target == "home" else "600"
    assert problems[0]["fix"] == f"chmod {mode} {path}"
    assert cli("doctor").returncode == 1
    # Doctor reported it and left it so: it repairs nothing.
    assert stat.S_IMODE(path.stat().st_mode) == (0o755 if target == "home" else 0o644)


def test_a_wrapped_server_without_a_manifest_is_a_problem_naming_manifest_init(cli, warden_bin, tmp_path):
    config = mcp_config(tmp_path / "app", {"notes": {"command": "python3", "args": ["notes.py", "--db", "my notes.db"]}})
    assert cli("wrap", config, "--warden", warden_bin).returncode == 0
    status, report = doctor(cli)  # the configuration is found through $WARDEN_HOME/wrapped/
    assert status == 1
    [finding] = of(report, "manifest")
    assert finding["severity"] == "problem" and finding["server"] == "notes"
    assert finding["config"] == str(config)
    assert finding["fix"].startswith("warden manifest init --server notes -- python3 notes.py --db 'my notes.db'")
    assert "warden manifest show" in finding["fix"]


def test_a_server_not_behind_warden_is_a_warning_and_a_built_in_manifest_resolves(cli, warden_bin, tmp_path):
    config = mcp_config(
        tmp_path / "app",
        {
            "clock": {"command": str(warden_bin), "args": ["run", "--server=clock", "--", "uvx", "mcp-server-time"]},
            "raw": {"command": "uvx", "args": ["mcp-server-git"]},
        },
    )
    status, report = doctor(cli, config)
    assert status == 0, report
    [manifest] = of(report, "manifest")
    assert manifest["severity"] == "ok" and "built-in manifest 'time'" in manifest["message"], manifest
    [bare] = of(report, "not-wrapped")
    assert bare["severity"] == "warning" and bare["server"] == "raw" and bare["fix"] == f"warden wrap {config}"


def test_mode_report_only_on_the_command_line_is_a_warning_with_the_pin(cli, warden_bin, warden_home, tmp_path):
    args = ["run", "--server=time", "--agent=claude-code", "--mode", "report", "--", "uvx", "mcp-server-time"]
    config = mcp_config(tmp_path / "app", {"time": {"command": str(warden_bin), "args": args}})
    status, report = doctor(cli, config)
    assert status == 0
    fixes = [f["fix"] for f in of(report, "unpinned-option")]
    assert any(fix.startswith("servers:\n  time:\n    mode: report") for fix in fixes), fixes
    assert "servers:\n  time:\n    agent: claude-code" in fixes
    text = cli("doctor", config).stdout
    assert "--mode report" in text and "fix: servers:" in text, text

    # Pinned in config.yaml, it is the human's setting: no warning.
    (warden_home / "config.yaml").write_text("servers:\n  time:\n    agent: claude-code\n    mode: report\n")
    status, report = doctor(cli, config)
    assert of(report, "unpinned-option") == [], report


def test_doctor_changes_nothing(cli, warden_bin, warden_home, tmp_path):
    config = mcp_config(tmp_path / "app", {"notes": {"command": "python3", "args": ["notes.py"]}})
    assert cli("wrap", config, "--warden", warden_bin).returncode == 0
    (warden_home / "manifests").mkdir(mode=0o700)
    (warden_home / "manifests" / "broken.yaml").write_text("server: [\n")
    warden_home.chmod(0o755)  # something warden's other commands would repair
    before_home, before_config = tree_digest(warden_home), config.read_bytes()
    for args in ([], ["--json"], [str(config)], ["--json", str(config)]):
        cli("doctor", *args)
    assert tree_digest(warden_home) == before_home
    assert config.read_bytes() == before_config


def test_an_unusable_warden_home_cannot_be_checked(cli):
    result = cli("doctor", env=child_env(WARDEN_HOME="relative/home"))
    assert result.returncode == 2, result
    assert "WARDEN_HOME must be an absolute path" in result.stderr


def test_make_install_stages_the_binary_and_completions_and_uninstall_removes_them(warden_bin, tmp_path):
    stage = tmp_path / "stage"
    pages = tmp_path / "man"  # what `make man` leaves (its plugin builds the package: too slow here)
    pages.mkdir()
    (pages / "warden.1").write_text(".Dt WARDEN 1\n")
    (pages / "warden.doctor.1").write_text(".Dt WARDEN.DOCTOR 1\n")
    common = [
        "make", "-s", "-C", str(REPO_ROOT), f"DESTDIR={stage}", "PREFIX=/usr", f"BIN={warden_bin}", f"MAN_SOURCE={pages}",
    ]
    result = subprocess.run([*common, "install"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    binary = stage / "usr" / "bin" / "warden"
    assert stat.S_IMODE(binary.stat().st_mode) == 0o755
    assert binary.read_bytes() == Path(warden_bin).read_bytes()
    completions = {
        "bash": stage / "usr/share/bash-completion/completions/warden",
        "zsh": stage / "usr/share/zsh/site-functions/_warden",
        "fish": stage / "usr/share/fish/vendor_completions.d/warden.fish",
    }
    man1 = stage / "usr/share/man/man1"
    assert sorted(p.name for p in man1.iterdir()) == ["warden.1", "warden.doctor.1"]
    for shell, path in completions.items():
        text = path.read_text()
        assert "doctor" in text and "grant" in text, (shell, text[:200])
    result = subprocess.run([*common, "uninstall"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not binary.exists() and not any(path.exists() for path in completions.values())
    assert list(man1.iterdir()) == []


def test_doctor_reads_the_store_of_a_running_warden_without_disturbing_it(cli, warden, mailbox_bin, warden_home):
    proc = warden(["--server", "mailbox"], [mailbox_bin])
    proc.send_json({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "doctor-test", "version": "1"}}})
    assert proc.read_json()["id"] == 1
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    proc.send_json({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_messages", "arguments": {}}})
    assert proc.read_json()["id"] == 2  # denied: no grant; decided and recorded through the store
    assert (warden_home / "warden.db-wal").exists()  # the store is live: read through the log
    status, report = doctor(cli)
    [store] = of(report, "store")
    assert store["severity"] == "ok" and "schema is current" in store["message"], store
    # The warden goes on deciding after doctor looked.
    proc.send_json({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_messages", "arguments": {}}})
    assert proc.read_json()["id"] == 3
    proc.close_stdin()
    assert proc.wait() == 0
