"""The delegation CLI, driving the built binary: `warden grant`, `deny`, `grants`, `revoke`, `check`,
`manifest lint` and `manifest show`. Each test has its own empty store (conftest's warden_home).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from conftest import FORBID_ID, GRANT_ID, REPO_ROOT, warden_cli


@pytest.fixture
def cli(warden_bin):
    def run(*args, **kwargs):
        return warden_cli(warden_bin, *args, **kwargs)

    return run


def instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def grants_json(cli, *flags) -> list[dict]:
    result = cli("grants", "--json", *flags)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def live_ids(cli) -> set[str]:
    return {g["id"] for g in grants_json(cli)}


# --------------------------------------------------------------------------------------------------
# grant


def test_grant_prints_only_the_new_id(cli):
    result = cli("grant", "--server", "git", "--allow", "git.read", "--purpose", "look around")
    assert result.returncode == 0, result.stderr
    assert GRANT_ID.match(result.stdout.rstrip("\n")) and result.stdout.count("\n") == 1, repr(result.stdout)
    assert result.stderr == ""
    assert live_ids(cli) == {result.stdout.strip()}


def test_grant_json_prints_the_whole_grant_and_the_default_expiry_is_8h(cli):
    result = cli(
        "grant", "--json", "--server", "git", "--agent", "claude-code", "--allow", "git.read,git.log",
        "--allow", "git.show", "--on", "repo:/srv/app", "--on", "repo:/srv/lib/**", "--confirm", "git.show",
        "--max-calls", "50/1h", "--by", "alice", "--purpose", "  review the release  ",
    )
    assert result.returncode == 0, result.stderr
    grant = json.loads(result.stdout)
    assert GRANT_ID.match(grant["id"])
    assert {k: grant[k] for k in ("effect", "status", "actions", "resources", "agent", "server", "confirm", "purpose", "issuedBy")} == {
        "effect": "allow",
        "status": "live",
        "actions": ["git.read", "git.log", "git.show"],
        "resources": ["repo:/srv/app", "repo:/srv/lib/**"],
        "agent": "claude-code",
        "server": "git",
        "confirm": ["git.show"],
        "purpose": "review the release",
        "issuedBy": "alice",
    }
    assert grant["maxCalls"] == {"count": 50, "period": "1h"}
    assert (instant(grant["expiresAt"]) - instant(grant["issuedAt"])).total_seconds() == 8 * 3600
    # The stored grant is the one printed.
    assert grants_json(cli) == [grant]


@pytest.mark.parametrize(("duration", "seconds"), [("90s", 90), ("30m", 1800), ("1h30m", 5400), ("2d", 172800)])
def test_grant_for_sets_the_expiry(cli, duration, seconds):
    grant = json.loads(cli("grant", "--json", "--allow", "x.read", "--for", duration, "--purpose", "p").stdout)
    assert (instant(grant["expiresAt"]) - instant(grant["issuedAt"])).total_seconds() == seconds


def test_grant_until_sets_the_expiry(cli):
    grant = json.loads(cli("grant", "--json", "--allow", "x.read", "--until", "2099-03-04T05:06", "--purpose", "p").stdout)
    assert grant["expiresAt"] == "2099-03-04T05:06:00Z"
    grant = json.loads(cli("grant", "--json", "--allow", "x.read", "--until", "2099-03-04T05:06:07+02:00", "--purpose", "p").stdout)
    assert grant["expiresAt"] == "2099-03-04T03:06:07Z"


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (["--allow", "git.read", "--for", "5q", "--purpose", "p"], ["--for"]),
        (["--allow", "git.read", "--for", "0s", "--purpose", "p"], ["--for"]),
        (["--allow", "git..read", "--purpose", "p"], ["--allow"]),
        (["--allow", "git read", "--purpose", "p"], ["--allow"]),
        (["--allow", "git.read", "--for", "1h", "--until", "2099-01-01", "--purpose", "p"], ["--for", "--until"]),
        (["--allow", "git.read", "--until", "2020-01-01T00:00", "--purpose", "p"], ["--until"]),
        (["--allow", "git.read", "--until", "next tuesday", "--purpose", "p"], ["--until"]),
        (["--allow", "git.read", "--purpose", ""], ["--purpose"]),
        (["--allow", "git.read", "--purpose", "   "], ["--purpose"]),
        (["--allow", "git.read", "--max-calls", "lots", "--purpose", "p"], ["--max-calls"]),
        (["--allow", "git.read", "--agent", "two words", "--purpose", "p"], ["--agent"]),
        # Issue 14, finding 8: an overflowing duration crashed warden; a trailing '/' was ignored.
        (["--allow", "git.read", "--for", "15250284452w", "--purpose", "p"], ["--for"]),
        (["--allow", "git.read", "--for", "5300w", "--purpose", "p"], ["--for"]),
        (["--allow", "git.read", "--max-calls", "1/1s/", "--purpose", "p"], ["--max-calls"]),
        (["--allow", "git.read", "--max-calls", "+1/1s", "--purpose", "p"], ["--max-calls"]),
    ],
    ids=["bad-duration", "zero-duration", "empty-segment", "space-in-action", "for-and-until", "until-past",
         "until-garbage", "empty-purpose", "blank-purpose", "bad-max-calls", "bad-agent",
         "overflowing-duration", "over-a-century", "max-calls-trailing-slash", "max-calls-signed"],
)
def test_grant_validation_errors_name_the_option_and_store_nothing(cli, args, options):
    result = cli("grant", *args)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected a one-line message: {result.stderr!r}"
    for option in options:
        assert option in lines[0], lines[0]
    assert grants_json(cli, "--all") == []


# --------------------------------------------------------------------------------------------------
# deny and grants


def test_deny_prints_a_forbid_that_lasts_until_revoked(cli):
    result = cli("deny", "--action", "**", "--on", "repo:/srv/prod/**", "--purpose", "stay out of production")
    assert result.returncode == 0, result.stderr
    forbid_id = result.stdout.strip()
    assert FORBID_ID.match(forbid_id) and result.stdout.count("\n") == 1
    (forbid,) = grants_json(cli)
    assert forbid["id"] == forbid_id and forbid["effect"] == "forbid" and forbid["expiresAt"] is None
    assert forbid["actions"] == ["**"] and forbid["resources"] == ["repo:/srv/prod/**"]
    timed = json.loads(cli("deny", "--json", "--action", "mail.send", "--for", "1h", "--purpose", "quiet hour").stdout)
    assert (instant(timed["expiresAt"]) - instant(timed["issuedAt"])).total_seconds() == 3600
    assert cli("deny", "--action", "", "--purpose", "p").returncode != 0


def test_grants_table_all_and_json(cli):
    assert cli("grants").stdout.strip() == "no grants or forbids are in force"
    first = cli("grant", "--server", "git", "--allow", "git.read", "--on", "repo:/a", "--purpose", "first one").stdout.strip()
    second = cli("grant", "--allow", "mail.read", "--purpose", "second one").stdout.strip()
    forbid = cli("deny", "--action", "git.reset", "--purpose", "never").stdout.strip()
    assert cli("revoke", second).returncode == 0

    table = cli("grants").stdout.splitlines()
    assert table[0].split() == ["ID", "EFFECT", "ACTIONS", "ON", "AGENT", "SERVER", "EXPIRES", "PURPOSE"]
    rows = {line.split()[0]: line for line in table[1:]}
    assert set(rows) == {first, forbid}
    assert rows[first].split()[1:6] == ["allow", "git.read", "repo:/a", "*", "git"] and rows[first].endswith("first one")
    assert "never" in rows[forbid].split()  # no expiry

    everything = cli("grants", "--all").stdout.splitlines()
    assert everything[0].split()[:2] == ["ID", "STATUS"]
    statuses = {line.split()[0]: line.split()[1] for line in everything[1:]}
    assert statuses == {first: "live", second: "revoked", forbid: "live"}

    assert {g["id"] for g in grants_json(cli)} == {first, forbid}
    revoked = next(g for g in grants_json(cli, "--all") if g["id"] == second)
    assert revoked["status"] == "revoked" and revoked["revokedBy"] and revoked["revokedAt"]


# --------------------------------------------------------------------------------------------------
# revoke


def test_revoke_a_parent_revokes_its_children(cli):
    parent = cli("grant", "--allow", "git.*", "--on", "repo:/srv/**", "--for", "2h", "--purpose", "team").stdout.strip()
    child = cli("grant", "--parent", parent, "--allow", "git.read", "--on", "repo:/srv/app", "--for", "1h",
                "--purpose", "sub-agent").stdout.strip()
    grandchild = cli("grant", "--parent", child, "--allow", "git.read", "--on", "repo:/srv/app", "--for", "30m",
                     "--purpose", "sub-sub-agent").stdout.strip()
    other = cli("grant", "--allow", "git.read", "--purpose", "unrelated").stdout.strip()
    assert all(GRANT_ID.match(i) for i in (parent, child, grandchild, other))
    assert next(g for g in grants_json(cli) if g["id"] == child)["parent"] == parent

    result = cli("revoke", parent)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {parent, child, grandchild}
    assert live_ids(cli) == {other}


def test_revoke_only_a_child_leaves_the_parent(cli):
    parent = cli("grant", "--allow", "git.read", "--purpose", "team").stdout.strip()
    child = cli("grant", "--parent", parent, "--allow", "git.read", "--for", "1h", "--purpose", "sub").stdout.strip()
    assert cli("revoke", child).stdout.split() == [child]
    assert live_ids(cli) == {parent}


def test_revoke_by_agent_and_all(cli):
    bot = cli("grant", "--agent", "bot", "--allow", "git.read", "--purpose", "bot").stdout.strip()
    bot_forbid = cli("deny", "--agent", "bot", "--action", "git.reset", "--purpose", "bot no reset").stdout.strip()
    human = cli("grant", "--agent", "claude-code", "--allow", "git.read", "--purpose", "claude").stdout.strip()
    anyone = cli("grant", "--allow", "time.read", "--purpose", "anyone").stdout.strip()

    result = cli("revoke", "--agent", "bot", "--json")
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {bot, bot_forbid}
    assert live_ids(cli) == {human, anyone}

    result = cli("revoke", "--all")
    assert result.returncode == 0 and set(result.stdout.split()) == {human, anyone}
    assert live_ids(cli) == set()
    # Nothing left: still fine, and says so.
    again = cli("revoke", "--all")
    assert again.returncode == 0 and again.stdout == "" and "nothing to revoke" in again.stderr


def test_revoking_an_unknown_id_changes_nothing(cli):
    kept = cli("grant", "--allow", "git.read", "--purpose", "keep me").stdout.strip()
    result = cli("revoke", "g_aaaaaaaaaaaaaaaa")
    assert result.returncode != 0 and "g_aaaaaaaaaaaaaaaa" in result.stderr
    # Together with a real id: all or nothing.
    result = cli("revoke", kept, "g_aaaaaaaaaaaaaaaa")
    assert result.returncode != 0 and result.stdout == ""
    assert live_ids(cli) == {kept}


def test_revoke_needs_exactly_one_way(cli):
    assert cli("revoke").returncode == 64
    assert cli("revoke", "--all", "--agent", "x").returncode == 64


def test_a_child_wider_than_its_parent_is_refused_with_the_reasons(cli):
    parent = cli("grant", "--agent", "bot", "--allow", "git.read", "--on", "repo:/a", "--for", "1h",
                 "--purpose", "narrow parent").stdout.strip()
    result = cli("grant", "--parent", parent, "--agent", "*", "--allow", "git.**", "--on", "repo:/b", "--for", "2h",
                 "--purpose", "too wide")
    assert result.returncode != 0 and result.stdout == ""
    assert "refused" in result.stderr and parent in result.stderr
    reasons = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("- ")]
    assert len(reasons) == 4, result.stderr
    assert any("git.**" in r for r in reasons) and any("repo:/b" in r for r in reasons)
    assert any("agent" in r for r in reasons) and any("outlive" in r for r in reasons)
    # Only the agent is wider: one reason.
    one = cli("grant", "--parent", parent, "--agent", "b*", "--allow", "git.read", "--on", "repo:/a", "--for", "30m",
              "--purpose", "x")
    assert one.returncode != 0
    assert [line for line in one.stderr.splitlines() if line.strip().startswith("- ")] == [
        line for line in one.stderr.splitlines() if "agent" in line and line.strip().startswith("- ")
    ]
    assert len([line for line in one.stderr.splitlines() if line.strip().startswith("- ")]) == 1
    # An unknown parent is refused too.
    assert cli("grant", "--parent", "g_zzzzzzzzzzzzzzzz", "--allow", "git.read", "--purpose", "x").returncode != 0
    # The narrow child is accepted; nothing else was stored.
    child = cli("grant", "--parent", parent, "--agent", "bot", "--allow", "git.read", "--on", "repo:/a",
                "--for", "30m", "--purpose", "narrower")
    assert child.returncode == 0, child.stderr
    assert live_ids(cli) == {parent, child.stdout.strip()}


# --------------------------------------------------------------------------------------------------
# check


def test_check_exit_codes_and_json(cli):
    commit = '{"repo_path": "/srv/app", "message": "wip"}'
    denied = cli("check", "--server", "git", "git_commit", commit)
    assert denied.returncode == 2, denied.stdout + denied.stderr
    assert "DENY (not-delegated)" in denied.stdout
    assert "to allow: warden grant --server git --agent agent --allow git.commit --on repo:/srv/app" in denied.stdout

    grant_id = cli("grant", "--server", "git", "--allow", "git.commit,git.reset", "--on", "repo:/srv/**",
                   "--purpose", "ship").stdout.strip()
    allowed = cli("check", "--server", "git", "--agent", "claude-code", "git_commit", commit)
    assert allowed.returncode == 0, allowed.stdout
    assert "ALLOW" in allowed.stdout and grant_id in allowed.stdout and "repo:/srv/app" in allowed.stdout

    confirm = cli("check", "--server", "git", "git_reset", '{"repo_path": "/srv/app"}', "--json")
    assert confirm.returncode == 3
    decision = json.loads(confirm.stdout)
    assert decision["verdict"] == "confirm" and decision["reason"] == "destructive" and decision["destructive"] is True
    assert decision["action"] == "git.reset" and decision["resources"] == ["repo:/srv/app"]
    assert decision["grants"] == [grant_id]

    forbid_id = cli("deny", "--server", "git", "--action", "git.commit", "--purpose", "freeze").stdout.strip()
    forbidden = cli("check", "--server", "mcp-server-git", "git_commit", commit, "--json")
    assert forbidden.returncode == 2
    decision = json.loads(forbidden.stdout)
    assert decision["reason"] == "forbidden" and decision["forbid"] == forbid_id and decision["server"] == "git"
    assert any(c["id"] == forbid_id and c["applied"] for c in decision["considered"])

    traversal = json.loads(cli("check", "--server", "git", "git_status", '{"repo_path": "/srv/app/../../etc"}', "--json").stdout)
    assert traversal["resources"] == ["repo:/etc"] and traversal["verdict"] == "deny"

    missing = cli("check", "--server", "git", "git_status", "{}", "--json")
    assert missing.returncode == 2 and json.loads(missing.stdout)["reason"] == "bad-arguments"
    undeclared = cli("check", "--server", "git", "git_push", "{}", "--json")
    assert undeclared.returncode == 2 and json.loads(undeclared.stdout)["reason"] == "undeclared"
    nomanifest = cli("check", "--server", "nobody-knows", "tool", "{}", "--json")
    assert nomanifest.returncode == 2 and json.loads(nomanifest.stdout)["reason"] == "no-manifest"
    assert cli("check", "--server", "git", "git_status", "not json").returncode == 1
    assert cli("check", "--server", "git", "git_status", "[1]").returncode == 1


# --------------------------------------------------------------------------------------------------
# manifest lint / show


def test_manifest_lint_good_files(cli):
    files = sorted((REPO_ROOT / "manifests").glob("*.yaml"))
    assert {f.name for f in files} >= {"git.yaml", "time.yaml", "fetch.yaml", "mailbox.yaml"}
    result = cli("manifest", "lint", *files)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"{REPO_ROOT / 'manifests' / 'git.yaml'}: ok (12 tools, server git)" in result.stdout.splitlines()


def test_manifest_lint_bad_file_reports_file_line_column(cli, tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("server: mine\ntools:\n  a:\n    action: x.read\n  b:\n    acton: x.write\n    destructive: maybe\n")
    good = REPO_ROOT / "manifests" / "time.yaml"
    result = cli("manifest", "lint", good, bad)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{good}: ok")
    errors = result.stderr.strip().splitlines()
    assert errors and all(re.match(rf"{re.escape(str(bad))}:\d+:\d+: error: ", e) for e in errors), errors
    positions = {tuple(map(int, re.match(rf"{re.escape(str(bad))}:(\d+):(\d+)", e).groups())) for e in errors}
    assert any(line == 6 for line, _ in positions), errors  # acton
    assert any(line == 7 for line, _ in positions), errors  # destructive: maybe
    assert any("acton" in e for e in errors) and any("destructive" in e for e in errors)

    as_json = cli("manifest", "lint", "--json", good, bad)
    assert as_json.returncode == 1
    reports = json.loads(as_json.stdout)
    assert reports[0] == {"file": str(good), "ok": True, "server": "time", "tools": 2}
    assert reports[1]["ok"] is False and {e["line"] for e in reports[1]["errors"]} >= {6, 7}

    missing = cli("manifest", "lint", tmp_path / "absent.yaml")
    assert missing.returncode == 1 and str(tmp_path / "absent.yaml") in missing.stderr


def test_manifest_show_git_prints_the_builtin_manifest(cli, tmp_path):
    result = cli("manifest", "show", "git")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (REPO_ROOT / "manifests" / "git.yaml").read_text()
    assert cli("manifest", "show", "mcp-server-git").stdout == result.stdout  # by alias
    copy = tmp_path / "git.yaml"
    copy.write_text(result.stdout)
    assert cli("manifest", "lint", copy).returncode == 0
    unknown = cli("manifest", "show", "no-such-server")
    assert unknown.returncode == 1 and "git" in unknown.stderr
