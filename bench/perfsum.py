#!/usr/bin/python3
"""Sums a flat `perf report --sort dso,sym` of parlor-server into the causes that matter:

    /usr/bin/python3 bench/perfsum.py build/bench/profile-<date>/chat.flat.txt

The buckets are what docs/BENCHMARKS.md discusses: libwebsockets' sorted timer list, the
poll() scan over every descriptor, the rest of the kernel (mostly TCP over loopback), JSON,
malloc, parlor's own code, SQLite, and whatever else lws and libc do.
"""

import re
import sys

POLL = {"do_sys_poll", "sock_poll", "tcp_poll", "__pollwait", "poll_freewait", "fdget", "fput",
        "__x64_sys_poll", "poll_select_set_timeout", "__fget_light", "__fdget", "fput_many",
        "add_wait_queue", "remove_wait_queue", "__poll", "poll", "lws_plat_service_tsi"}

BUCKETS = [
    ("libwebsockets timer list: lws_dll2_add_sorted (O(n) insert)",
     lambda dso, sym: sym == "lws_dll2_add_sorted"),
    ("poll(): scanning every descriptor on each wake-up",
     lambda dso, sym: sym in POLL),
    ("kernel, rest (TCP send/receive over loopback, softirq, scheduler)",
     lambda dso, sym: dso.startswith("[kernel")),
    ("jansson (JSON encode/decode)", lambda dso, sym: "jansson" in dso),
    ("malloc/free", lambda dso, sym: "libc" in dso and re.search(r"malloc|free|_int_|cfree", sym)),
    ("SQLite", lambda dso, sym: "sqlite" in dso),
    ("parlor-server's own code", lambda dso, sym: dso.startswith("parlor-server")),
    ("libwebsockets, rest", lambda dso, sym: "libwebsockets" in dso),
    ("libc, rest", lambda dso, sym: "libc" in dso),
    ("other", lambda dso, sym: True),
]

LINE = re.compile(r"^\s*([0-9.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*?)\s*$")


def main():
    totals = [0.0] * len(BUCKETS)
    top = {}
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
            for i, (_, test) in enumerate(BUCKETS):
                if test(dso, sym):
                    totals[i] += pct
                    top.setdefault(i, []).append((pct, sym))
                    break
    for i, (name, _) in enumerate(BUCKETS):
        if totals[i] >= 0.05:
            syms = ", ".join(f"{s} {p:.1f}%" for p, s in sorted(top[i], reverse=True)[:3])
            print(f"{totals[i]:5.1f}%  {name}   [{syms}]")


if __name__ == "__main__":
    main()
