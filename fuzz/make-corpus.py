#!/usr/bin/env python3
"""Writes the seed corpus, fuzz/corpus/<target>/, from real MCP traffic and hand-made edge cases.

Run once and commit the result; rerun only to change the seeds (it replaces the four folders).
The captured traffic comes from Tests/e2e/fixtures/mcp-captures/*.jsonl (their `raw` fields), or
from CAPTURES=DIR; the templates come from manifests/*.yaml.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CAPTURES = os.environ.get("CAPTURES", os.path.join(ROOT, "Tests", "e2e", "fixtures", "mcp-captures"))


def captured_lines():
    """Distinct JSON-RPC lines from the captures, shortest first; the 6 KiB tool lists are kept out
    (the framer seeds make big lines cheaply, and small seeds fuzz faster)."""
    lines = set()
    for path in sorted(glob.glob(os.path.join(CAPTURES, "*.jsonl"))):
        for record in map(json.loads, open(path, encoding="utf-8")):
            raw = record.get("raw")
            if record.get("dir") in ("c2s", "s2c") and raw and len(raw) < 1200:
                lines.add(raw.encode())
    if not lines:
        sys.exit(f"no captures in {CAPTURES}")
    return sorted(lines, key=lambda line: (len(line), line))


def parse(line):
    try:
        return json.loads(line)
    except ValueError:
        return None  # the captures hold deliberately malformed lines too


def nested(depth, opener=b"[", closer=b"]"):
    return opener * depth + b"1" + closer * depth


# Lines a relay must get right; each exercises one rule of the scanner.
ADVERSARIAL_LINES = [
    b"", b" \t ", b"\r", b" \r",
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}\r',  # \r\n line end: accepted
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}\r{"jsonrpc":"2.0","id":2,"method":"tools/call"}',
    b'{"jsonrpc":"2.0",\r"id":1,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":"a\rb","method":"ping"}',
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}\r\r',
    b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":1,"\\u0069d":2,"method":"ping"}',
    b'{"jsonrpc":"2.0","\\u0069d":7,"m\\u0065thod":"tools/call"}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"a":1,"a":2}}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"n":1e999}}',
    b'{"jsonrpc":"2.0","id":1e999,"result":{}}',
    b'{"jsonrpc":"2.0","id":12345678901234567890,"result":{}}',
    b'{"jsonrpc":"2.0","id":-0,"result":{}}',
    b'{"jsonrpc":"2.0","id":1.50,"error":{"code":-32600,"message":"x"}}',
    b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}',
    b'{"jsonrpc":"2.0","id":null,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}',
    b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00","method":"ping"}',
    b'{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}',
    b'{"jsonrpc":"2.0","id":1,"result":{},"error":{}}',
    b'{"jsonrpc":"2.0","id":1,"method":"m","result":1}',
    b'{"jsonrpc":"2.\\u0030","id":1,"method":"ping"}',
    b'{"jsonrpc":"1.0","id":1,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"\\u0000":"\\u0000"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"caf\xc3\xa9"}',
    b'{"jsonrpc":"2.0","id":1,"method":"\xed\xa0\x80"}',  # UTF-8 of a surrogate
    b'{"jsonrpc":"2.0","id":1,"method":"\xc0\xaf"}',  # overlong
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}x',
    b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":false\x00}}',
    b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + nested(70) + b"}",
    b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + nested(70, b'{"a":', b"}") + b"}",
    b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + nested(2100) + b"}",
    b"[]", b"[1,2]", b'"2.0"', b"null", b"{}", b"{\n}",
]

# Call params for the ambiguity check: the unit tests' cases plus structure it must still report.
ADVERSARIAL_VALUES = [
    b'{"a":1,"a":2}', b'{"a":1,"\\u0061":2}', b'{"a":[{"b":{"c":1,"c":2}}]}',
    b'{"n":1e999}', b'{"n":-1e999}', b'{"n":12345678901234567890}', b'{"n":-9223372036854775809}',
    b'{"n":9223372036854775807,"m":-9223372036854775808}', b'{"x":1.5e300,"y":-0.0,"z":1e-999}',
    b'{"s":"\\ud800"}', b'{"s":"\\udc00\\ud800"}', b'{"s":"\\ud800x"}', b'{"\\ud800":1}',
    b'{"s":"\\ud83d\\ude00 \\u00e9 \\n"}', '{"K":1,"\u212a":2}'.encode(),
    '{"caf\u00e9":1,"cafe\u0301":2}'.encode(),
    b'{"a" : [ 1 , 2 ] , "b" : null , "c" : true , "d" : false}',
    b"", b"}", b"]", b"[1 2]", b'{"a" "b"}', b'{"a":1,}', b"[,]", b"{:}", b"1 2", b"tru", b"nul",
    b'{"a":1}\r', b'{"a":\r1}', b'{"a":1}\x00', b'"\\u0000"', nested(64), nested(2100),
    nested(40, b'{"a":', b"}"),
]

# Templates beyond the manifests': every filter, `[]` fan-out, escapes, and syntax errors.
TEMPLATES = [
    "repo:{repo_path|path}", "file:{files[]|path:repo_path}", "host:{url|host}", "domain:{to|domain}",
    "message:{id}", "folder:{folder|lower}", "x:{a[].b[].c|path}", "{{literal}}:{a}", "{a|path|lower}",
    "p:{ a | path }", "{a.b.c}", "{a|nope}", "{a", "a}", "{}", "{a.}", "{a|path:}", "{a||path}",
]

TEMPLATE_INPUTS = [
    ("repo:{repo_path|path}", "", b'{"repo_path":"/home/me/app/../../etc/./passwd//"}'),
    ("repo:{repo_path|path}", "/srv", b'{"repo_path":"app/../../.."}'),
    ("repo:{repo_path|path}", "", b'{"repo_path":"~/app"}'),
    ("repo:{repo_path|path}", "", b'{"repo_path":"/srv/$HOME/x"}'),
    ("repo:{repo_path|path}", "!", b'{"repo_path":"/srv/${HOME}/x"}'),
    ("repo:{repo_path|path}", "", b'{"repo_path":"/srv/%APPDATA%/x"}'),
    ("repo:{repo_path|path}", "", b'{"repo_path":"/srv/a\\u0000b"}'),
    ("repo:{repo_path|path}", "", b'{"repo_path":7}'),
    ("file:{files[]|path:repo_path}", "", b'{"repo_path":"/r","files":["a","../b","/c/./d",".."]}'),
    ("file:{files[]|path:repo_path}", "", b'{"repo_path":"rel","files":["a"]}'),
    ("host:{url|host}", "", b'{"url":"https://user@Example.COM.:8443/x?y#z"}'),
    ("host:{url|host}", "", b'{"url":"http://[::1]:80/"}'),
    ("host:{url|host}", "", b'{"url":"http://a\\\\b@evil.com/"}'),
    ("domain:{to|domain}", "", b'{"to":"Ann <ann@Example.org.>"}'),
    ("domain:{to|domain}", "", b'{"to":"a@b.com, c@d.com"}'),
    ("x:{a[].b[].c|path}", "/base", b'{"a":[{"b":[{"c":"x"},{"c":"../y"}]},{"b":[]}]}'),
    ("repo:/srv/**", "repo:/srv/*", b"repo:/srv/a"),  # glob pair: covers, matches
    ("git.*", "git.read", b"x"),
    ("a/*/**", "a/*/**", b"a/b"),
    ("**", "*", b"x"),
]


SAMPLE = {"url": "https://Example.com/a", "to": "ann@example.org", "files": ["a", "../b"],
          "repo_path": "/home/me/app", "a": [{"b": [{"c": "d"}]}]}


def framer_input(max_line, capacity, stream, chunk=100):
    """Header bytes, then `stream` as literal chunks of `chunk` bytes (< 128)."""
    out = bytearray([max_line, capacity])
    for start in range(0, len(stream), chunk):
        piece = stream[start:start + chunk]
        out += bytes([len(piece)]) + piece
    return bytes(out)


def write(target, items):
    folder = os.path.join(HERE, "corpus", target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    seen = set()
    for name, data in items:
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        with open(os.path.join(folder, f"{name}-{digest[:8]}"), "wb") as file:
            file.write(data)
    print(f"{target}: {len(seen)} seeds")


def manifest_templates():
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "manifests", "*.yaml"))):
        for line in open(path, encoding="utf-8"):
            if re.match(r"\s+resource:", line):
                found += re.findall(r'"([^"]*)"', line)
    return sorted(set(found))


def main():
    lines = captured_lines()
    messages = [m for m in map(parse, lines) if isinstance(m, dict)]
    # Every params, result and error body, as the ambiguity check sees a call's params.
    bodies = sorted({json.dumps(m[key], separators=(",", ":")).encode()
                     for m in messages for key in ("params", "result", "error") if key in m}, key=len)
    arguments = sorted({json.dumps(m["params"]["arguments"]).encode()
                        for m in messages if m.get("method") == "tools/call"}, key=len)

    # Every other captured line: a few dozen seeds cover both eras and all message kinds.
    write("scanner", [("capture", line) for line in lines[::2]] + [("edge", line) for line in ADVERSARIAL_LINES])
    write("ambiguity", [("body", body) for body in bodies[::2]] + [("edge", v) for v in ADVERSARIAL_VALUES])

    stream = b"\n".join(lines[:12]) + b"\n"
    write("framer", [
        ("capture-default", framer_input(255, 255, stream)),  # maxLine 16 KiB, 256 KiB buffer
        ("capture-tight", framer_input(120, 0, stream, chunk=37)),  # lines over maxLine, 1 KiB buffer
        ("capture-crlf", framer_input(200, 2, stream.replace(b"\n", b"\r\n"), chunk=7)),
        ("capture-unterminated", framer_input(255, 1, stream.rstrip(b"\n"))),
        ("blank-lines", bytes([10, 0, 5]) + b"\n\n\n\n\n" + bytes([0x81]) + b"\n"),
        ("big-lines", bytes([64, 1, 0x90]) + b"x" + bytes([1]) + b"\n" + bytes([0xFF]) + b"y" + bytes([3]) + b"z\nw"),
        ("prefix-4k", bytes([250, 3, 0xFF]) + b"a" + bytes([0xFF]) + b"b" + bytes([2]) + b"\nc"),
        ("shrink", bytes([255, 1]) + (bytes([0xA0]) + b"q" + bytes([1]) + b"\n") * 3 + bytes([3]) + b"s\nt"),
        ("exact-limit", bytes([8, 0, 9]) + b"12345678\n" + bytes([10]) + b"123456789\n"),
    ] + [
        # Single captured lines under varied limits, buffers and chunkings (deterministic spread).
        ("capture-line", framer_input((40 + 9 * i) % 256, (i * 37) % 256, line + b"\n", chunk=1 + (i * 13) % 127))
        for i, line in enumerate(lines[::3])
    ])

    items = []
    for template in manifest_templates() + TEMPLATES:
        names = re.findall(r"\{\s*([\w-]+)", template)
        relevant = [a for a in arguments if any(f'"{name}"' in a.decode() for name in names)]
        made = json.dumps({name: SAMPLE.get(name, "42") for name in names}).encode()
        items += [("template", f"{template}\n\n".encode() + args) for args in relevant or [made]]
        # The same values as plain text: the harness hands it to every argument the template names.
        plain = SAMPLE.get(names[0]) if names else None
        plain = plain if isinstance(plain, str) else "x/../y"
        items.append(("plain", f"{template}\n/base\n{plain}".encode()))
    items += [("edge", f"{t}\n{base}\n".encode() + args) for t, base, args in TEMPLATE_INPUTS]
    write("templates", items)


if __name__ == "__main__":
    main()
