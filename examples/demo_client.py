#!/usr/bin/env python3
"""A short scripted MCP session, printed as it happens: what an agent's client says and hears.

Usage: demo_client.py COMMAND [ARGS...]   (for example: warden run -- warden-example-mailbox --seed)

Standard library only, so the demo needs nothing from PyPI. It speaks raw JSON-RPC lines, as every
MCP client does over stdio, and shows one malformed line to show what warden does with it.
"""
import json
import shlex
import subprocess
import sys

WIDTH = 150


def show(arrow, text):
    text = text.rstrip("\n")
    print(f"{arrow} {text if len(text) <= WIDTH else text[:WIDTH] + ' ...'}", flush=True)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    child = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def send(message):
        line = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        show("client ->", line)
        child.stdin.write(line + "\n")
        child.stdin.flush()

    def receive():
        line = child.stdout.readline()
        if not line:
            sys.exit("demo: the server closed the connection")
        show("client <-", line)
        return json.loads(line)

    def call(id, method, params=None):
        message = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            message["params"] = params
        send(message)
        return receive()

    print("== handshake")
    call(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                           "clientInfo": {"name": "demo-agent", "version": "1.0"}})
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    print("\n== the tools and their annotations")
    tools = call(2, "tools/list")["result"]["tools"]
    for tool in tools:
        hints = tool.get("annotations", {})
        kind = "read-only" if hints.get("readOnlyHint") else ("destructive" if hints.get("destructiveHint") else "write")
        print(f"   {tool['name']:<16} {kind}")
    print("\n== reading the inbox (delegated: mail.list, mail.read)")
    listing = call(3, "tools/call", {"name": "list_messages", "arguments": {"folder": "inbox"}})
    messages = listing["result"].get("structuredContent", {}).get("messages", [])
    first = messages[0]["id"] if messages else "none"
    call(4, "tools/call", {"name": "read_message", "arguments": {"id": first}})
    print("\n== archiving it: not delegated, so warden denies it and says what would allow it")
    denied = call(5, "tools/call", {"name": "archive_message", "arguments": {"id": first}})
    print("   " + denied["result"]["content"][0]["text"].replace("\n", "\n   "))
    warden = sys.argv[1]
    if warden.endswith("warden"):
        grant = [warden, "grant", "--server", "mailbox", "--agent", "demo-agent", "--allow", "mail.archive",
                 "--on", f"message:{first}", "--for", "10m", "--purpose", "archive the message the human picked"]
        print("\n== the human delegates it, outside the conversation:")
        print("   $ warden " + shlex.join(grant[1:]))
        subprocess.run(grant, check=True, stdout=subprocess.DEVNULL)
        # Warden announces the change (notifications/tools/list_changed).
        receive()
        call(6, "tools/call", {"name": "archive_message", "arguments": {"id": first}})
    print("\n== deleting: not delegated (and destructive: even under a grant a human must confirm each call)")
    call(7, "tools/call", {"name": "delete_message", "arguments": {"id": first}})
    print("\n== a line that is not JSON: warden answers it and the session goes on")
    send("this is not json")
    receive()
    call(8, "ping")
    child.stdin.close()
    status = child.wait(timeout=10)
    print(f"\n== session closed; exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
