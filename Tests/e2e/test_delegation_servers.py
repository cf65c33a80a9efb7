"""Each curated manifest exercised end to end against its real server, through `warden run` with the
SDK client: mcp-server-time, mcp-server-fetch (against a page served on 127.0.0.1 by this test) and
the example mailbox. (mcp-server-git: test_delegation.py.)
"""

from __future__ import annotations

import http.server
import threading

import pytest

from conftest import expected_marks, strip_tool_list, venv_tool
from sdk_support import (
    ERAS,
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


def run_calls(argv: list, calls: list, mode: str = "legacy", env=None) -> tuple[dict, list[dict]]:
    async def scenario():
        async with session(argv, mode=mode, env=env) as client:
            listing = dump(await client.list_tools())
            return listing, [await call(client, tool, arguments) for tool, arguments in calls]

    return run_async(scenario)


# --------------------------------------------------------------------------------------------------
# mcp-server-time


@pytest.mark.parametrize("mode", ERAS)
def test_time_server(warden_bin, time_server_bin, grant, tmp_path, mode):
    argv = [warden_bin, "run", "--server", "time", "--", *tapped(tmp_path / "inner", [time_server_bin, "--local-timezone", "UTC"])]
    calls = [
        ("get_current_time", {"timezone": "Europe/Warsaw"}),
        ("convert_time", {"source_timezone": "Europe/Warsaw", "time": "14:30", "target_timezone": "Asia/Tokyo"}),
    ]
    _, denied = run_calls(argv, calls, mode)
    for result in denied:
        decision = assert_denied(result, "not-delegated")
        assert decision["action"] == "time.read" and decision["resources"] == []
        assert "The call means: time.read on no resources." in text_of(result)
        assert "suggestedGrant" not in decision
        assert "would have to delegate 'time.read' to agent 'warden-e2e' on server 'time'" in text_of(result)
    assert calls_seen_by_server(tmp_path / "inner") == []

    grant("--server", "time", "--allow", "time.read", purpose="tell the time")
    listing, (now, converted) = run_calls(argv, calls, mode)
    assert strip_tool_list(listing)[1] == {
        "get_current_time": expected_marks("delegated", "time.read"),
        "convert_time": expected_marks("delegated", "time.read"),
    }
    assert assert_allowed(now)["structuredContent"]["timezone"] == "Europe/Warsaw"
    assert assert_allowed(converted)["structuredContent"]["target"]["timezone"] == "Asia/Tokyo"
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["get_current_time", "convert_time"]


# --------------------------------------------------------------------------------------------------
# mcp-server-fetch

PAGE = "warden fetch fixture: the granted host answered\n"


@pytest.fixture
def local_site():
    """An HTTP server on 127.0.0.1 (a free port) serving /page.txt; records the paths requested."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            body = PAGE.encode() if self.path == "/page.txt" else b"not found\n"
            self.send_response(200 if self.path == "/page.txt" else 404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def fetch_env():
    from conftest import child_env

    env = child_env()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@pytest.mark.parametrize("mode", ERAS)
def test_fetch_server_granted_host_only(warden_bin, grant, tmp_path, local_site, mode):
    fetch_bin = venv_tool("mcp-server-fetch")
    base, requests = local_site
    grant("--server", "fetch", "--allow", "web.fetch", "--on", "host:127.0.0.1", purpose="read the local docs")
    command = [fetch_bin, "--ignore-robots-txt", "--allow-private-ips"]  # the page is on 127.0.0.1
    argv = [warden_bin, "run", "--server", "fetch", "--", *tapped(tmp_path / "inner", command)]
    calls = [
        ("fetch", {"url": f"{base}/page.txt"}),
        # Other hosts: denied by warden before anything leaves it (the server never sees the call).
        ("fetch", {"url": "http://example.com/secret"}),
        ("fetch", {"url": "https://EVIL.Example.NET:8443/x?y=1"}),
        # A host two URL parsers could read differently: denied, never guessed.
        ("fetch", {"url": "http://127.0.0.1\\@evil.example.net/"}),
    ]
    listing, (page, other, evil, ambiguous) = run_calls(argv, calls, mode, env=fetch_env())
    assert strip_tool_list(listing)[1] == {"fetch": expected_marks("delegated", "web.fetch")}
    assert_allowed(page)
    assert page["isError"] is False and PAGE.strip() in text_of(page), page
    assert "/page.txt" in requests
    assert assert_denied(other, "not-delegated")["uncovered"] == ["host:example.com"]
    assert assert_denied(evil, "not-delegated")["uncovered"] == ["host:evil.example.net"]
    assert "delegate 'web.fetch' on host:evil.example.net" in text_of(evil)
    assert assert_denied(ambiguous, "bad-arguments")["tool"] == "fetch"
    seen = calls_seen_by_server(tmp_path / "inner")
    assert [c["arguments"]["url"] for c in seen] == [f"{base}/page.txt"], seen


# --------------------------------------------------------------------------------------------------
# warden-example-mailbox


@pytest.mark.parametrize("mode", ERAS)
def test_mailbox_server(warden_bin, mailbox_bin, grant, tmp_path, mode):
    box = tmp_path / "box"
    grant("--server", "mailbox", "--allow", "mail.list,mail.read,mail.delete", purpose="triage the inbox")
    grant("--server", "mailbox", "--allow", "mail.send", "--on", "domain:example.com", purpose="reply to colleagues")
    command = [mailbox_bin, "--mailbox", box, "--seed"]
    argv = [warden_bin, "run", "--server", "mailbox", "--confirm-timeout", "0.3", "--", *tapped(tmp_path / "inner", command)]

    async def scenario():
        async with session(argv, mode=mode) as client:
            listing = dump(await client.list_tools())
            listed = await call(client, "list_messages", {})
            ids = [word.strip("[]") for word in text_of(listed).split() if word.startswith("[msg-")]
            assert ids, text_of(listed)
            read = await call(client, "read_message", {"id": ids[0]})
            deleted = await call(client, "delete_message", {"id": ids[0]})
            read_again = await call(client, "read_message", {"id": ids[0]})
            outside = await call(client, "send_message", {"to": "mallory@evil.test", "subject": "hi", "body": "secret"})
            two = await call(client, "send_message", {"to": "a@example.com, mallory@evil.test", "subject": "s", "body": "b"})
            inside = await call(client, "send_message", {"to": "alice@example.com", "subject": "hi", "body": "fine"})
            archive = await call(client, "archive_message", {"id": ids[1]})
            return listing, listed, ids, read, deleted, read_again, outside, two, inside, archive

    listing, listed, ids, read, deleted, read_again, outside, two, inside, archive = run_async(scenario)
    marks = strip_tool_list(listing)[1]
    assert marks["list_messages"] == expected_marks("delegated", "mail.list")
    assert marks["read_message"] == expected_marks("delegated", "mail.read")
    assert marks["delete_message"] == expected_marks("needs-confirmation", "mail.delete")
    assert marks["send_message"] == expected_marks("delegated", "mail.send")
    assert marks["archive_message"] == expected_marks("not-delegated", "mail.archive")

    assert_allowed(listed)
    assert_allowed(read)
    assert read["isError"] is False
    # delete_message is destructive: covered by the grant, but held for a human's confirmation; nobody
    # decides within the deadline, so it is denied and the message is still there.
    decision = assert_denied(deleted, "confirmation-timed-out")
    assert decision["resources"] == [f"message:{ids[0]}"], decision
    assert "confirmation" in text_of(deleted)
    assert assert_allowed(read_again)["isError"] is False
    assert text_of(read_again) == text_of(read)
    # send_message to a domain not granted: denied; to several addresses: denied (one scope only);
    # to the granted domain: sent.
    assert assert_denied(outside, "not-delegated")["uncovered"] == ["domain:evil.test"]
    assert_denied(two, "bad-arguments")
    assert assert_allowed(inside)["isError"] is False, inside
    assert "alice@example.com" in text_of(inside)
    assert_denied(archive, "not-delegated")
    seen = [c["name"] for c in calls_seen_by_server(tmp_path / "inner")]
    assert seen == ["list_messages", "read_message", "read_message", "send_message"], seen
    assert not any("evil.test" in str(c["arguments"]) for c in calls_seen_by_server(tmp_path / "inner"))
