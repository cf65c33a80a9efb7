#!/usr/bin/env python3
"""Aggregate bench/driver JSON lines into a Markdown table (stdlib only).

    python3 bench/aggregate.py bench/out/<stamp>.jsonl [--pinning TEXT] [--notes FILE]

Per configuration: the median over repetitions of each figure. Against direct: per repetition,
the difference (latency, start) or ratio (throughput, big messages) to the direct run of the same
repetition, then the median of those.
"""
import argparse
import json
import statistics
import sys

TARGETS = {
    "added_p50": 30.0,  # us, at most
    "added_p99": 150.0,  # us, at most
    "pipe_ratio": 0.80,  # x direct, at least
    "result_ratio": 1.5,  # x direct, at most
    "rss_idle_mib": 15.0,  # MiB, at most
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, spec, prefix=""):
    if v is None:
        return "n/a"
    return prefix + format(v, spec)


def signed(v, spec):
    if v is None:
        return "n/a"
    return ("+" if v >= 0 else "") + format(v, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--pinning", default="unknown")
    ap.add_argument("--notes")
    a = ap.parse_args()

    runs, failures = [], []
    with open(a.raw) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except ValueError:
                failures.append(("?", "unparseable driver output: " + line[:200]))
                continue
            if "error" in d:
                failures.append((d.get("config", "?"), d["error"]))
            else:
                runs.append(d)

    configs = []
    for d in runs:
        if d["config"] not in configs:
            configs.append(d["config"])
    order = [c for c in ("direct", "relay", "warden") if c in configs] + [
        c for c in configs if c not in ("direct", "relay", "warden")
    ]
    by = {c: [d for d in runs if d["config"] == c] for c in order}
    direct_by_rep = {d["rep"]: d for d in by.get("direct", [])}

    def m(c, key, scale=1.0):
        return med([d[key] * scale for d in by[c] if d.get(key, -1) >= 0])

    def vs_direct(c, key, how):
        vals = []
        for d in by[c]:
            base = direct_by_rep.get(d["rep"])
            if base is None or d.get(key, -1) < 0 or base.get(key, -1) <= 0:
                continue
            vals.append(d[key] - base[key] if how == "diff" else d[key] / base[key])
        return med(vals)

    relay_by_rep = {d["rep"]: d for d in by.get("relay", [])}

    def vs_relay(c, key):
        vals = []
        for d in by[c]:
            base = relay_by_rep.get(d["rep"])
            if base is None or d.get(key, -1) < 0 or base.get(key, -1) <= 0:
                continue
            vals.append(d[key] / base[key])
        return med(vals)

    reps = max((len(v) for v in by.values()), default=0)
    first = runs[0] if runs else {}
    print(
        f"Pinning: `{a.pinning}`; repetitions: {reps}; medians over repetitions; "
        f"\"vs direct\" = median of per-repetition differences / ratios to the direct run of the same repetition."
    )
    if first:
        print(
            f"Counts: {first['seq_n']} sequential calls, {first['pipe_n']} pipelined calls "
            f"({first['pipe_inflight']} in flight), {first['arg_n']} x {first['arg_bytes'] / 1048576:g} MiB argument, "
            f"{first['result_n']} x {first['result_bytes'] / 1048576:g} MiB result, {first['start_n']} spawns."
        )
    print()
    hdr = "| figure | " + " | ".join(order) + " | target |"
    print(hdr)
    print("|---|" + "---:|" * len(order) + "---|")

    rows = []
    rows.append(("sequential round trip p50 (us)", {c: fmt(m(c, "seq_p50_us"), ".1f") for c in order}, ""))
    rows.append(("sequential round trip p99 (us)", {c: fmt(m(c, "seq_p99_us"), ".1f") for c in order}, ""))
    derived = {c: {} for c in order}
    for c in order:
        dd = derived[c]
        if c == "direct" or not direct_by_rep:
            continue
        dd["added_p50"] = vs_direct(c, "seq_p50_us", "diff")
        dd["added_p99"] = vs_direct(c, "seq_p99_us", "diff")
        dd["pipe_ratio"] = vs_direct(c, "pipe_calls_per_s", "ratio")
        dd["arg_ratio"] = vs_direct(c, "arg_median_ms", "ratio")
        dd["result_ratio"] = vs_direct(c, "result_median_ms", "ratio")
        dd["start_added"] = vs_direct(c, "start_median_ms", "diff")
        if c != "relay" and relay_by_rep:
            dd["result_vs_relay"] = vs_relay(c, "result_median_ms")
            dd["arg_vs_relay"] = vs_relay(c, "arg_median_ms")
    for c in order:
        derived[c]["rss_idle_mib"] = m(c, "rss_idle_kib", 1 / 1024)

    def dcell(c, key, f):
        if c == "direct":
            return "-"
        return f(derived[c].get(key))

    rows.append(("added p50 vs direct (us)", {c: dcell(c, "added_p50", lambda v: signed(v, ".1f")) for c in order},
                 "<= +30"))
    rows.append(("added p99 vs direct (us)", {c: dcell(c, "added_p99", lambda v: signed(v, ".1f")) for c in order},
                 "<= +150"))
    rows.append(("pipelined, calls/s", {c: fmt(m(c, "pipe_calls_per_s"), ",.0f") for c in order}, ""))
    rows.append(("pipelined vs direct", {c: dcell(c, "pipe_ratio", lambda v: fmt(v, ".2f") + "x") for c in order},
                 ">= 0.80x"))
    ab = first.get("arg_bytes", 1 << 20) / 1048576 if first else 1
    rb = first.get("result_bytes", 10 << 20) / 1048576 if first else 10
    rows.append((f"{ab:g} MiB argument round trip (ms)", {c: fmt(m(c, "arg_median_ms"), ".2f") for c in order}, ""))
    rows.append((f"{ab:g} MiB argument vs direct",
                 {c: dcell(c, "arg_ratio", lambda v: fmt(v, ".2f") + "x") for c in order}, ""))
    rows.append((f"{rb:g} MiB result round trip (ms)", {c: fmt(m(c, "result_median_ms"), ".2f") for c in order}, ""))
    rows.append((f"{rb:g} MiB result vs direct",
                 {c: dcell(c, "result_ratio", lambda v: fmt(v, ".2f") + "x") for c in order}, "<= 1.5x"))
    if relay_by_rep and any(c not in ("direct", "relay") for c in order):
        rows.append((f"{ab:g} MiB argument vs relay floor",
                     {c: (dcell(c, "arg_vs_relay", lambda v: fmt(v, ".2f") + "x") if c not in ("direct", "relay")
                          else "-") for c in order}, ""))
        rows.append((f"{rb:g} MiB result vs relay floor",
                     {c: (dcell(c, "result_vs_relay", lambda v: fmt(v, ".2f") + "x") if c not in ("direct", "relay")
                          else "-") for c in order}, ""))
    rows.append(("idle RSS (MiB) *", {c: fmt(derived[c]["rss_idle_mib"], ".1f") for c in order}, "<= 15"))
    rows.append(("peak RSS (MiB) *", {c: fmt(m(c, "rss_peak_kib", 1 / 1024), ".1f") for c in order}, ""))
    rows.append(("first initialize response (ms)", {c: fmt(m(c, "start_median_ms"), ".2f") for c in order}, ""))
    rows.append(("start added vs direct (ms)",
                 {c: dcell(c, "start_added", lambda v: signed(v, ".2f")) for c in order}, ""))
    rows.append(("error responses (all reps)", {c: str(sum(d.get("errors", 0) for d in by[c])) for c in order}, "0"))
    for name, cells, target in rows:
        print(f"| {name} | " + " | ".join(cells[c] for c in order) + f" | {target} |")
    print()
    print("\\* RSS of the process the client spawned: the proxy itself for relay and warden (not the server "
          "behind it); for direct, the echo server.")

    proxies = [c for c in order if c != "direct"]
    if proxies and direct_by_rep:
        print()
        print("| target | " + " | ".join(proxies) + " |")
        print("|---|" + "---|" * len(proxies))
        checks = [
            ("added p50 <= 30 us", "added_p50", lambda v: v <= TARGETS["added_p50"], lambda v: signed(v, ".1f") + " us"),
            ("added p99 <= 150 us", "added_p99", lambda v: v <= TARGETS["added_p99"], lambda v: signed(v, ".1f") + " us"),
            ("pipelined >= 0.80x direct", "pipe_ratio", lambda v: v >= TARGETS["pipe_ratio"], lambda v: f"{v:.2f}x"),
            (f"{rb:g} MiB result <= 1.5x direct", "result_ratio", lambda v: v <= TARGETS["result_ratio"],
             lambda v: f"{v:.2f}x"),
            ("idle RSS <= 15 MiB", "rss_idle_mib", lambda v: v <= TARGETS["rss_idle_mib"], lambda v: f"{v:.1f} MiB"),
        ]
        for name, key, ok, show in checks:
            cells = []
            for c in proxies:
                v = derived[c].get(key)
                cells.append("n/a" if v is None else f"{'PASS' if ok(v) else 'FAIL'} ({show(v)})")
            print(f"| {name} | " + " | ".join(cells) + " |")

    notes = []
    floor = derived.get("relay", {}).get("result_ratio")
    if floor is not None and floor > TARGETS["result_ratio"]:
        notes.append(
            f"the zero-logic relay floor itself takes {floor:.2f}x direct on the {rb:g} MiB result: pinned to one CPU, "
            "the transfer is bound by pipe copies and context switches and this harness's direct path is fast "
            "(a few ms), so 1.5x direct is below what any byte-copying interposer reaches here; the "
            "\"vs relay floor\" row shows the proxy's own cost")
    if a.notes:
        try:
            with open(a.notes) as f:
                notes += [ln.strip() for ln in f if ln.strip()]
        except OSError:
            pass
    for c, err in failures:
        notes.append(f"{c}: run failed: {err}")
    for c in order:
        bad = [d for d in by[c] if d.get("errors")]
        if bad:
            notes.append(f"{c}: {sum(d['errors'] for d in bad)} error responses; first: {bad[0].get('first_error', '')[:300]}")
        st = sorted({d.get("exit_status") for d in by[c]} - {"0"})
        if st:
            notes.append(f"{c}: exit status after the client closed stdin: {', '.join(map(str, st))}")
    if notes:
        print()
        print("Notes:")
        for n in notes:
            print(f"- {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
