"""Framing, differentially: what warden judged as one line must be what the server reads as one line.

Warden frames the client's stream on `\\n`. The official Python SDK's stdio server reads through a
TextIOWrapper with universal newlines, which also ends a line at a bare `\\r`. A line warden judges
as one harmless message (a bare `\\r` being JSON whitespace) could then reach the server as several
messages, one of them a `tools/call` the gate never saw. So the server here is
servers/parse_report.py: the SDK's own stdio transport, reporting every line its reader framed and
what it parsed from it. servers/tap.py between warden and the server records the exact bytes warden
forwarded.

Every test line is followed by a marker notification (forwarded, parsed by the server) and a sync
request (a duplicated envelope key: warden answers it itself and forwards nothing), so the tap, the
server's report and warden's answers split into one segment per test line. For each line:
  * warden forwarded either nothing or exactly the line, byte for byte (an unterminated last line
    may get its missing `\n`);
  * the SDK's reader framed exactly one line from it when it was forwarded, none otherwise, and that
    line is the forwarded one (terminator translated) and parses to what the whole line parses to;
  * no `tools/call` of a tool outside the grant ever reaches the server.
The fixed table also says which lines must pass (CRLF, U+2028 and friends, escaped `\\r`) and which
must be refused, with the reason when warden answers a request.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import FIXTURE_MANIFESTS, SERVERS_DIR, python_server
from sdk_support import tapped

mcp_types = pytest.importorskip("mcp_types", reason="the mcp SDK is not installed: run Tests/e2e/setup_venv.sh")

PARSE_REPORT = SERVERS_DIR / "parse_report.py"
FRAMING_MANIFEST = FIXTURE_MANIFESTS / "framing.yaml"
MARKER_METHOD = "notifications/framing-marker"

EMBEDDED = ("embedded-line-break",)
PARSE = ("parse-error",)


def marker(seq: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": MARKER_METHOD, "params": {"seq": seq}}).encode() + b"\n"


def sync(seq: int) -> bytes:
    # Refused for the duplicated `method` (SPEC: -32600 with the id), in order with the answers to the
    # line before it, and never forwarded: it closes that line's segment of warden's answers.
    return b'{"jsonrpc":"2.0","id":"sync-%d","method":"sync","method":"sync"}\n' % seq


def smuggled(tag: str) -> bytes:
    """A tools/call of the tool no grant covers: the gate denies it whenever it sees it."""
    return (
        b'{"jsonrpc":"2.0","id":"smuggled-%s","method":"tools/call","params":{"name":"denied","arguments":{}}}'
        % tag.encode()
    )


def sdk_text(line: bytes) -> str:
    """The text the SDK's reader yields for `line` when it frames it as one line.

    The reader decodes UTF-8 with errors="replace" and translates its one terminator (`\\r\\n`, `\\n`,
    or `\\r` at end of input) to `\\n`.
    """
    text = line.decode("utf-8", "replace")
    for terminator in ("\r\n", "\n", "\r"):
        if text.endswith(terminator):
            return text[: -len(terminator)] + "\n"
    return text


def whole_line_parse(line: bytes) -> dict | None:
    """What the SDK parses from `line` taken whole (None when it is no valid message to the SDK)."""
    try:
        message = mcp_types.jsonrpc_message_adapter.validate_json(sdk_text(line), by_name=False)
    except ValueError:
        return None
    return message.model_dump(mode="json", by_alias=True, exclude_unset=True)


@dataclass
class Outcome:
    """One test line and what became of it on each hop."""

    label: str
    line: bytes
    at_eof: bool = False  # sent unterminated, right before the client closed stdin
    forwarded: list[bytes] = field(default_factory=list)  # lines warden wrote to the server (tap)
    framed: list[dict] = field(default_factory=list)  # the server's report: one entry per line read
    answers: list[dict] = field(default_factory=list)  # what warden answered the client

    def describe(self) -> str:
        return (
            f"{self.label}: sent {self.line!r}\n"
            f"    warden forwarded {self.forwarded!r}\n"
            f"    the SDK read {[entry['line'] for entry in self.framed]!r}"
            f" as {[entry.get('method') or entry.get('kind') or 'not a message' for entry in self.framed]!r}\n"
            f"    warden answered {self.answers!r}"
        )


def run_session(warden, tmp_path: Path, cases: list[tuple[str, bytes]], eof: tuple[str, bytes] | None = None):
    """Sends each (label, line) through warden to the reporting server.

    `eof` is sent last, unterminated, and stdin is closed right after it. Returns one Outcome per line
    and the Outcome of `eof` (None without it).
    """
    hop, report = tmp_path / "hop", tmp_path / "report.jsonl"
    # A generous --grace: the SDK server takes a while to wind down on a loaded machine.
    proc = warden(["--grace", "15", "--manifest", FRAMING_MANIFEST], tapped(hop, python_server(PARSE_REPORT, report)))
    outcomes = [Outcome(label, line) for label, line in cases]
    for seq, outcome in enumerate(outcomes):
        proc.send(outcome.line + marker(seq) + sync(seq))

    # Warden's answers, up to each sync's refusal, belong to the line before it.
    for seq, outcome in enumerate(outcomes):
        while True:
            answer = proc.read_json()
            if answer.get("id") == f"sync-{seq}":
                assert answer.get("error", {}).get("code") == -32600, f"the sync line was not refused: {answer}"
                break
            outcome.answers.append(answer)
    tail = None
    if eof is not None:
        tail = Outcome(*eof, at_eof=True)
        proc.send(tail.line)
    proc.close_stdin()
    leftovers = [json.loads(line) for line in proc.read_to_eof()]
    status = proc.wait(timeout=40)
    assert status == 0, f"warden exited {status}\nstderr:\n{proc.stderr_text()}"
    if tail is not None:
        tail.answers = leftovers

    # Split the forwarded bytes and the server's report at the markers (both are in order).
    c2s = Path(f"{hop}.c2s")
    # Split on LF only, as warden frames (bytes.splitlines would also split at the CRs under test).
    forwarded = re.findall(rb"[^\n]*\n|[^\n]+$", c2s.read_bytes()) if c2s.exists() else []
    # Warden's own listing of the tools before the first call (the client never listed them; see
    # parse_report.py): not a client line, and not reported by the server.
    forwarded = [line for line in forwarded if b'"id":"warden-lookup-' not in line or b'"tools/list"' not in line]
    framed = [json.loads(entry) for entry in report.read_text().splitlines()] if report.exists() else []
    segments = [Outcome("", b"")]
    for line in forwarded:
        if line == marker(len(segments) - 1):
            segments.append(Outcome("", b""))
        else:
            segments[-1].forwarded.append(line)
    seq = 0
    for entry in framed:
        if entry.get("method") == MARKER_METHOD:
            assert entry["message"]["params"]["seq"] == seq, f"marker out of order: {entry}"
            seq += 1
        else:
            segments[seq].framed.append(entry)
    assert len(segments) == len(outcomes) + 1 and seq == len(outcomes), (
        f"{len(outcomes)} markers sent, {len(segments) - 1} forwarded, {seq} read by the server\n"
        f"stderr:\n{proc.stderr_text()}"
    )
    if tail is None:
        assert not segments[-1].forwarded and not segments[-1].framed, (
            f"something reached the server after the last line: {segments[-1].forwarded!r} {segments[-1].framed!r}"
        )
    else:
        tail.forwarded, tail.framed = segments[-1].forwarded, segments[-1].framed
    for outcome, segment in zip(outcomes, segments):
        outcome.forwarded, outcome.framed = segment.forwarded, segment.framed
    return outcomes, tail


def framing_problems(outcome: Outcome) -> list[str]:
    """What is wrong with one line's outcome (empty when warden and the SDK agree on it)."""
    problems = []
    acceptable = [[], [outcome.line]]
    if outcome.at_eof:
        acceptable.append([outcome.line + b"\n"])  # warden terminates the last line it forwards
    if outcome.forwarded not in acceptable:
        problems.append("warden forwarded bytes other than the line it received")
    expected = [sdk_text(line) for line in outcome.forwarded]
    if [entry["line"] for entry in outcome.framed] != expected:
        problems.append(
            f"the SDK's reader framed {len(outcome.framed)} line(s) where warden forwarded {len(outcome.forwarded)}"
        )
    for entry in outcome.framed:
        if "message" in entry and entry["message"] != whole_line_parse(outcome.line):
            problems.append(f"the server parsed a message that is not the whole line: {entry['message']}")
        if entry.get("method") == "tools/call" and (entry["message"].get("params") or {}).get("name") != "allowed":
            problems.append(f"a tools/call outside the grant reached the server: {entry['message']}")
    return problems


def assert_no_problems(outcomes: list[Outcome], check) -> None:
    failures = []
    for outcome in outcomes:
        problems = check(outcome)
        if problems:
            failures.append("; ".join(problems) + "\n  " + outcome.describe())
    assert not failures, f"{len(failures)} of {len(outcomes)} lines failed:\n" + "\n".join(failures[:20])


@pytest.fixture
def framing_grant(grant):
    grant("--server", "framing", "--allow", "framing.allowed", purpose="framing tests call tool allowed")


# --------------------------------------------------------------------------------------------------
# A fixed table of adversarial lines

NOTE = b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1'


def ping(id: int, params: bytes = b"") -> bytes:
    return b'{"jsonrpc":"2.0","id":%d,"method":"ping"%s}' % (id, b',"params":' + params if params else b"")


def string_note(raw: bytes) -> bytes:
    """A notification with `raw` (unescaped bytes) inside a string value."""
    return NOTE + b',"s":"a' + raw + b'b"}}'


# (label, line, must warden forward it, the reasons one of which warden's one answer must carry, or
# None: no requirement on the answer, as for notifications and responses, which warden never answers).
TABLE = [
    # Controls: ordinary lines and the terminators both sides agree on.
    ("plain request", ping(1) + b"\n", True, None),
    ("CRLF terminator", ping(2) + b"\r\n", True, None),
    ("blank before CRLF", ping(3) + b" \t\r\n", True, None),
    ("allowed tools/call", b'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"allowed","arguments":{}}}\n', True, None),
    ("escaped CR in a string", string_note(b"\\r\\u000d\\u000D") + b"\n", True, None),
    # Characters some line splitters (str.splitlines) break on; raw inside a string they are valid
    # JSON, and the SDK's TextIOWrapper does not split on them.
    ("raw U+2028 in a string", string_note("\u2028".encode()) + b"\n", True, None),
    ("raw U+2029 in a string", string_note("\u2029".encode()) + b"\n", True, None),
    ("raw U+0085 in a string", string_note("\u0085".encode()) + b"\n", True, None),
    # A bare CR anywhere but right before the final LF: a line break to the SDK.
    ("bare CR between tokens", b'{"jsonrpc":"2.0",\r"id":10,"method":"ping"}\n', False, EMBEDDED),
    ("bare CR at the start", b"\r" + ping(11) + b"\n", False, EMBEDDED),
    ("CR CR LF", ping(12) + b"\r\r\n", False, EMBEDDED),
    ("CR then a blank before LF", ping(13) + b"\r \n", False, EMBEDDED),
    ("bare CR before the closing brace", ping(14)[:-1] + b"\r}\n", False, EMBEDDED),
    ("raw CR in a string", ping(15, b'{"s":"a\rb"}') + b"\n", False, EMBEDDED + PARSE),
    # Smuggling: a tools/call the gate would deny, on a line of its own to the SDK.
    ("smuggled in a notification", NOTE + b',"x":\r' + smuggled("note") + b"\r}}\n", False, None),
    ("smuggled in a ping", ping(20, b'{"_meta":\r' + smuggled("ping") + b"\r}") + b"\n", False, EMBEDDED),
    (
        "smuggled in an allowed tools/call",
        b'{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"allowed","arguments":{"a":\r'
        + smuggled("call") + b"\r}}}\n",
        False,
        EMBEDDED,
    ),
    ("smuggled in a response", b'{"jsonrpc":"2.0","id":"srv-1","result":{"x":\r' + smuggled("resp") + b"\r}}\n", False, None),
    (
        "smuggled before the envelope keys",
        b'{"params":{"x":\r' + smuggled("first") + b'\r},"jsonrpc":"2.0","method":"notifications/progress"}\n',
        False,
        None,
    ),
    ("smuggled, CRLF terminator", NOTE + b',"x":\r' + smuggled("crlf") + b"\r}}\r\n", False, None),
    ("smuggled in blanks", NOTE + b',"x": \r\t' + smuggled("blank") + b" \r }}\n", False, None),
    # Other control bytes: not JSON whitespace, and raw in a string not JSON at all.
    ("form feed between tokens", ping(30)[:-1] + b"\x0c}\n", False, PARSE),
    ("vertical tab in a string", ping(31, b'{"s":"a\x0bb"}') + b"\n", False, PARSE),
    ("NUL in a string", ping(32, b'{"s":"a\x00b"}') + b"\n", False, PARSE),
    ("record separator in a string", ping(33, b'{"s":"a\x1eb"}') + b"\n", False, PARSE),
    ("U+2028 between tokens", ping(34)[:-1] + "\u2028".encode() + b"}\n", False, PARSE),
    ("lone 0x85 byte", ping(35, b'{"s":"a\x85b"}') + b"\n", False, PARSE),
    ("invalid UTF-8", ping(36, b'{"s":"a\xff\xfeb"}') + b"\n", False, PARSE),
    ("truncated UTF-8 before CR", ping(37, b'{"s":"a\xe2\x80\rb"}') + b"\n", False, EMBEDDED + PARSE),
    # Lines with nothing but whitespace: nothing to forward, whatever warden answers.
    ("only blanks", b" \t \n", False, None),
    ("only CR LF", b"\r\n", False, None),
    ("only CR CR LF", b"\r\r\n", False, None),
    ("blanks around a CR", b" \r \n", False, None),
    # The end of the table is an ordinary line again: the stream survived everything above.
    ("plain request after all that", ping(40) + b"\n", True, None),
]


def test_adversarial_lines_reach_the_sdk_as_warden_judged_them(warden, framing_grant, tmp_path):
    outcomes, _ = run_session(warden, tmp_path, [(label, line) for label, line, _, _ in TABLE])
    expectations = {label: (forward, reasons) for label, _, forward, reasons in TABLE}

    def check(outcome: Outcome) -> list[str]:
        problems = framing_problems(outcome)
        forward, reasons = expectations[outcome.label]
        if forward and outcome.forwarded != [outcome.line]:
            problems.append("warden did not forward a line both sides read alike")
        if not forward and outcome.forwarded:
            problems.append("warden forwarded a line it must refuse")
        if reasons is not None:
            got = [answer.get("error", {}).get("data", {}).get("warden", {}).get("reason") for answer in outcome.answers]
            if len(got) != 1 or got[0] not in reasons:
                problems.append(f"expected one error answer with reason {' or '.join(reasons)}, got {got}")
        return problems

    assert_no_problems(outcomes, check)


# --------------------------------------------------------------------------------------------------
# The last line, unterminated at end of input

EOF_LINES = {
    "plain notification": NOTE + b"}}",
    "trailing CR": ping(50) + b"\r",
    "smuggled": NOTE + b',"x":\r' + smuggled("eof") + b"\r}}",
    "smuggled, trailing CR": NOTE + b',"x":\r' + smuggled("eof-cr") + b"\r}}\r",
}


@pytest.mark.parametrize("line", list(EOF_LINES.values()), ids=list(EOF_LINES.keys()))
def test_unterminated_last_line(warden, framing_grant, tmp_path, line):
    # Warden may forward a final unterminated line or drop it; either way the SDK must read the same.
    _, tail = run_session(warden, tmp_path, [], eof=("unterminated at EOF", line))
    assert_no_problems([tail], framing_problems)


# --------------------------------------------------------------------------------------------------
# Seeded random lines: valid messages, mutated where a framing disagreement would hide

SEED = 20260728
COUNT = 300

# Inserted only between tokens, where JSON allows whitespace: to a JSON parser the line stays valid,
# while to the SDK every bare CR ends a line. That gap is the smuggling window.
BOUNDARY_INSERTS = [" ", "\t", "\r", "\r\r", " \r", "\r\t", "\r "]
# Inserted anywhere, inside strings and tokens too.
ANYWHERE_INSERTS = ["\r", "\x0b", "\x0c", "\x00", "\x1c", "\u2028", "\u2029", "\u0085", "\\r", " "]
TEXT = ["alpha", "zażółć", "\u2028", "line\nbreak", "cr\rlf", "tab\t", "quote\"", "back\\slash", "", "é😀"]
SMUGGLE_TOKEN = "@@SMUGGLE@@"


def random_value(rng: random.Random, depth: int):
    roll = rng.random()
    if depth <= 0 or roll < 0.45:
        # Integers within 64 bits: warden denies a tools/call with wider ones (readers disagree on them).
        return rng.choice([rng.choice(TEXT), rng.randint(-(10**15), 10**18), rng.random(), True, False, None])
    if roll < 0.75:
        return {f"k{i}": random_value(rng, depth - 1) for i in range(rng.randint(0, 3))}
    return [random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]


def random_message(rng: random.Random, n: int) -> dict:
    params = {f"p{i}": random_value(rng, 2) for i in range(rng.randint(0, 3))}
    kind = rng.choice(["request", "request", "notification", "notification", "response", "tools/call"])
    if kind == "request":
        method = rng.choice(["ping", "tools/list", "resources/list", "prompts/list", "x/custom"])
        return {"jsonrpc": "2.0", "id": rng.choice([n, f"r-{n}"]), "method": method, "params": params}
    if kind == "notification":
        method = rng.choice(["notifications/progress", "notifications/roots/list_changed", "x/notify"])
        return {"jsonrpc": "2.0", "method": method, "params": params}
    if kind == "response":
        return {"jsonrpc": "2.0", "id": f"srv-{n}", "result": params}
    return {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "allowed", "arguments": params}}


def objects_in(value) -> list[dict]:
    """Every JSON object inside `value`, itself included."""
    found = [value] if isinstance(value, dict) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        found += objects_in(child)
    return found


def token_boundaries(text: str) -> list[int]:
    """Offsets between JSON tokens of `text`, where JSON allows whitespace."""
    boundaries, in_string, escaped = [0], False, False
    for offset, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                boundaries.append(offset + 1)
        elif char == '"':
            in_string = True
            boundaries.append(offset)
        elif char in "{}[],:":
            boundaries += [offset, offset + 1]
    return sorted(set(boundaries))


def random_line(rng: random.Random, n: int) -> tuple[str, bytes]:
    message = random_message(rng, n)
    labels = []
    if rng.random() < 0.3:
        # A whole tools/call as a nested value, mostly fenced by bare CRs: the SDK would read it as
        # a line of its own, a message the gate never judged.
        host = rng.choice(objects_in(message))
        host[f"s{n}"] = SMUGGLE_TOKEN
        labels.append("smuggle")
    text = json.dumps(message, ensure_ascii=rng.random() < 0.5, separators=rng.choice([(",", ":"), (", ", ": ")]))
    if labels:
        fence = lambda: rng.choice(["\r", " \r", "\r\t", "\r\r", ""])  # noqa: E731
        text = text.replace(f'"{SMUGGLE_TOKEN}"', fence() + smuggled(str(n)).decode() + fence())
    if rng.random() < 0.8:
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.6:
                at, insert = rng.choice(token_boundaries(text)), rng.choice(BOUNDARY_INSERTS)
            else:
                at, insert = rng.randint(0, len(text)), rng.choice(ANYWHERE_INSERTS)
            text = text[:at] + insert + text[at:]
            labels.append(f"{insert!r}@{at}")
    line = text.encode() + rng.choice([b"\n", b"\n", b"\r\n"])
    if rng.random() < 0.05:
        at = rng.randint(0, len(line) - 1)
        line = line[:at] + bytes([rng.choice([b for b in range(256) if b != 0x0A])]) + line[at:]  # one line still
        labels.append(f"byte@{at}")
    return f"random #{n} ({', '.join(labels) or 'unmutated'})", line


def test_random_mutations_reach_the_sdk_as_warden_judged_them(warden, framing_grant, tmp_path):
    rng = random.Random(SEED)
    cases = [random_line(rng, n) for n in range(COUNT)]
    outcomes, _ = run_session(warden, tmp_path, cases)
    assert_no_problems(outcomes, framing_problems)
    # Not vacuous: the lines nobody mutated (valid, ids unique) went through, except client responses
    # to requests the server never sent, which warden may drop.
    unmutated = [o for o in outcomes if o.label.endswith("(unmutated)") and b'"srv-' not in o.line]
    assert len(unmutated) >= COUNT // 10
    refused = [o.describe() for o in unmutated if o.forwarded != [o.line]]
    assert not refused, "valid lines were not forwarded:\n" + "\n".join(refused)
