"""The examples shipped in examples/ stay true: each agent's configuration in examples/agents/AGENT/
before/ becomes exactly examples/agents/AGENT/after/ under `warden wrap --agent AGENT --warden warden`,
`warden unwrap` gives the original back byte for byte, and examples/config.yaml is a configuration
warden accepts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO_ROOT, warden_cli

AGENTS = REPO_ROOT / "examples" / "agents"
AGENT_NAMES = ["claude-desktop", "claude-code", "cursor", "vscode", "codex"]


def example_files(agent: str) -> list[Path]:
    return sorted(path for path in (AGENTS / agent / "before").iterdir() if path.is_file())


def test_every_agent_has_an_example():
    assert sorted(path.name for path in AGENTS.iterdir() if path.is_dir()) == sorted(AGENT_NAMES)
    for agent in AGENT_NAMES:
        assert example_files(agent), agent


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_wrapping_the_example_gives_its_after_file_and_unwrap_gives_it_back(agent, warden_bin, warden_home, tmp_path):
    for original in example_files(agent):
        config = tmp_path / original.name
        shutil.copyfile(original, config)
        wrapped = warden_cli(warden_bin, "wrap", "--agent", agent, "--warden", "warden", config)
        assert wrapped.returncode == 0, wrapped.stderr
        expected = (AGENTS / agent / "after" / original.name).read_bytes()
        assert config.read_bytes() == expected, f"{agent}/{original.name}: regenerate examples/agents/{agent}/after"
        # Every stdio server is behind warden, and the agent is pinned for each.
        pinned = (warden_home / "config.yaml").read_text()
        assert f"agent: {agent}" in pinned, pinned
        # Wrapping again changes nothing.
        again = warden_cli(warden_bin, "wrap", "--agent", agent, "--warden", "warden", config)
        assert again.returncode == 0, again.stderr
        assert config.read_bytes() == expected
        unwrapped = warden_cli(warden_bin, "unwrap", config)
        assert unwrapped.returncode == 0, unwrapped.stderr
        assert config.read_bytes() == original.read_bytes()


def test_remote_servers_in_the_examples_are_left_alone_with_a_note(warden_bin, warden_home, tmp_path):
    config = tmp_path / "config.toml"
    shutil.copyfile(AGENTS / "codex" / "before" / "config.toml", config)
    result = warden_cli(warden_bin, "wrap", "--agent", "codex", "--warden", "warden", config)
    assert result.returncode == 0, result.stderr
    assert "figma (mcp_servers): a remote server" in result.stderr, result.stderr
    assert 'url = "https://mcp.figma.com/mcp"' in config.read_text()


def test_the_example_configuration_is_accepted(warden_bin, warden_home, tmp_path):
    (warden_home / "config.yaml").write_text((REPO_ROOT / "examples" / "config.yaml").read_text())
    config = tmp_path / "mcp.json"
    shutil.copyfile(AGENTS / "cursor" / "before" / "mcp.json", config)
    # wrap reads config.yaml first and refuses an invalid one (exit 78).
    result = warden_cli(warden_bin, "wrap", "--agent", "cursor", "--dry-run", config)
    assert result.returncode == 0, result.stderr
    status = warden_cli(warden_bin, "status")
    assert status.returncode == 0, status.stderr
