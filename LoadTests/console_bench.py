"""Times console pages with a signed-in billing user's cookie (console-bench.sh runs it)."""
import argparse
import json
import statistics
import time

import requests

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True)
parser.add_argument("--login", required=True, help="the file setup.py wrote: the billing user's name and password")
parser.add_argument("--phase", choices=["pages", "live"], required=True)
parser.add_argument("--repeat", type=int, default=21)
args = parser.parse_args()
name, password = open(args.login).read().split()
session = requests.Session()
reply = session.post(args.base + "/login", data={"user": name, "password": password},
                     headers={"Origin": args.base}, allow_redirects=False)
assert reply.status_code == 303 and "tg_session" in session.cookies, reply.text[:300]


def measure(label, path, check):
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        page = session.get(args.base + path)
        times.append((time.perf_counter() - started) * 1000)
        assert page.status_code == 200, (path, page.status_code, page.text[:300])
        assert check in page.text, (path, check)
    times.sort()
    p90 = times[int(len(times) * 0.9) - 1]
    print(f"{label:<46} median {statistics.median(times):7.1f} ms  p90 {p90:7.1f} ms  max {times[-1]:7.1f} ms"
          f"  ({len(page.content) // 1024} KiB)")


if args.phase == "pages":
    measure("Extensions, first page", "/extensions", "of 100")
    measure("Extensions, page 500 (offset 50,000)", "/extensions?offset=50000", "Edit")
    measure("Extensions, search by number", "/extensions?number=4242", "Edit")
    measure("Call Log, first page", "/calls", "of ")
    measure("Call Log, keyword (one extension)", "/calls?keyword=1042", "of ")
    measure("Recharge History, first page", "/recharges", "of ")
    measure("Statistics, today", "/statistics", "total-cost")
else:
    measure("Live calls page", "/live", "call(s) in progress")
    stream = session.get(args.base + "/live/events", stream=True, timeout=30)
    started = time.perf_counter()
    events, sizes, totals = 0, [], []
    for line in stream.iter_lines():
        if line.startswith(b"data: "):
            event = json.loads(line[6:])
            events += 1
            sizes.append(len(line))
            totals.append(event["total"])
            if events == 5:
                break
    elapsed = time.perf_counter() - started
    print(f"Live calls events: {events} in {elapsed:.1f} s, {statistics.median(sizes) // 1024} KiB each, "
          f"live calls {min(totals)}-{max(totals)}")
