#!/usr/bin/env python3
"""Completes a load run's summary and renders its report.

Reads the load generator's JSON summary and per-second timeline, reads back through the admin API every
extension's balance (overspend: how far any balance went below -credit, which must be 0; conservation: the
balances must equal what was loaded plus recharges minus the costs the PBX was told), scrapes /metrics for the
engine's tick lateness, adds the baselines measured in the same run, and writes the final JSON and one HTML file
with SVG charts."""
import argparse
import csv
import html
import json
import re

from api import API, micros

parser = argparse.ArgumentParser()
parser.add_argument("--summary", required=True)
parser.add_argument("--timeline", required=True)
parser.add_argument("--http", type=int, required=True)
parser.add_argument("--token-file", required=True)
parser.add_argument("--extensions", type=int, required=True)
parser.add_argument("--broke", type=int, default=0)
parser.add_argument("--balance-micros", type=int, required=True)
parser.add_argument("--echo")
parser.add_argument("--ledger")
parser.add_argument("--machine", default="")
parser.add_argument("--server-costs", action="store_true",
                    help="conserve against the call log's total cost: after a crash some End replies were lost, and "
                         "an End sent again gets no figures")
parser.add_argument("--json")
parser.add_argument("--report")
args = parser.parse_args()

summary = json.load(open(args.summary))
api = API(args.http, open(args.token_file).read().strip())

# Balances, read back through the API, page by page.
overspend = 0
overspent_extensions = 0
balance_total = 0
offset = 0
while True:
    page = api.call("GET", f"/api/v1/extensions?billingEnabled=true&limit=10000&offset={offset}")
    for item in page["items"]:
        balance, credit = micros(item["balance"]), micros(item["credit"])
        if balance < -credit:
            overspend += -credit - balance
            overspent_extensions += 1
        balance_total += balance
    offset += len(page["items"])
    if not page["items"] or offset >= page["total"]:
        break
loaded = args.extensions * args.balance_micros
costs = summary["cost_total_micros"]
if args.server_costs:
    costs = micros(api.call("GET", "/api/v1/stats?period=year")["totalCost"])
    summary["server_cost_total_micros"] = costs
expected = loaded + summary["recharged_total_micros"] - costs
summary["overspend_micros"] = overspend
summary["overspent_extensions"] = overspent_extensions
summary["balance_mismatch_micros"] = balance_total - expected

metrics = api.text("/metrics")


def metric(name):
    found = re.search(rf"^tollgate_{name} (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


def buckets(name):
    """A histogram's (upper bound in seconds, cumulative count) pairs, +Inf last."""
    found = re.findall(rf'^tollgate_{name}_bucket{{le="([^"]+)"}} (\S+)$', metrics, re.M)
    return [(float(bound), float(count)) for bound, count in found]


def quantile_us(name, q):
    """As Prometheus's histogram_quantile: linear within the bucket that holds the q-th sample. Exact to the
    bucket's width (the server's buckets are 50 us wide at the bottom, 2.5 ms around 10 ms)."""
    pairs = buckets(name)
    total = pairs[-1][1] if pairs else 0
    if total == 0:
        return 0
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in pairs:
        if count >= rank:
            if bound == float("inf"):
                return round(lower_bound * 1_000_000)
            fraction = (rank - lower_count) / (count - lower_count) if count > lower_count else 1
            return round((lower_bound + (bound - lower_bound) * fraction) * 1_000_000)
        lower_bound, lower_count = bound, count
    return round(lower_bound * 1_000_000)


def bucket_max_us(name):
    """The upper bound of the highest bucket that holds a sample: the largest is at most this."""
    previous, result = 0.0, 0
    for bound, count in buckets(name):
        if count > previous:
            result = round(bound * 1_000_000) if bound != float("inf") else -1
        previous = count
    return result


summary["tick_lateness_p99_us"] = quantile_us("tick_lateness_seconds", 0.99)
summary["tick_lateness_max_us"] = bucket_max_us("tick_lateness_seconds")
summary["engine_cutoffs"] = round(metric("cutoffs_total"))
summary["engine_cutoff_lateness_p99_us"] = quantile_us("cutoff_lateness_seconds", 0.99)
summary["engine_authorize_p99_us"] = quantile_us("authorize_duration_seconds", 0.99)
summary["server_ledger_entries"] = round(metric("ledger_entries_total"))

if args.echo:
    echo = json.load(open(args.echo))
    summary["echo_ceiling_rps"] = echo["echo_ceiling_rps"]
    summary["echo_p99_us"] = echo["echo_p99_us"]
if args.ledger:
    text = open(args.ledger).read()
    for key in ("sqlite_baseline_rows_per_s", "ledger_rows_per_s"):
        found = re.search(rf"^{key}: (\d+)", text, re.M)
        summary[key] = int(found.group(1)) if found else 0
summary["machine"] = args.machine

rows = list(csv.DictReader(open(args.timeline)))

# Tick lateness while the load was held: the server's 10-second windows, scraped every second. A scrape shows the
# last window completed, which ended up to 10 s before it, so a window lies wholly in the hold only when the live
# calls had been at 99% of their peak or more for the 20 seconds before the scrape (and one more for rounding).
peak = summary["live_calls_peak"]
held = [int(r["tick_window_p99_us"]) for i, r in enumerate(rows)
        if i >= 21 and peak and all(int(rows[j]["live"]) >= 0.99 * peak for j in range(i - 21, i + 1))]
summary["tick_lateness_hold_windows"] = len(held)
summary["tick_lateness_hold_p99_us"] = max(held) if held else 0
summary["tick_lateness_hold_p99_median_us"] = sorted(held)[len(held) // 2] if held else 0
summary["tick_lateness_hold_window_p99s_us"] = held

if args.json:
    with open(args.json, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")



def chart(title, series, unit):
    """One SVG line chart; series: [(label, colour, [values])]."""
    width, height, left, bottom = 720, 220, 70, 30
    xs = [int(r["second"]) for r in rows] or [0]
    top = max([max(values) for _, _, values in series if values] + [1])
    span = max(xs[-1] - xs[0], 1)

    def point(x, y):
        return (left + (x - xs[0]) * (width - left - 10) / span, height - bottom - y * (height - bottom - 20) / top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="20" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
             f'<text x="{left - 6}" y="24" text-anchor="end">{top:,} {unit}</text>',
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>',
             f'<text x="{width - 10}" y="{height - 8}" text-anchor="end">{xs[-1]} s</text>']
    for index, (label, colour, values) in enumerate(series):
        if values:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(x, v) for x, v in zip(xs, values)))
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        parts.append(f'<text x="{left + 10 + index * 150}" y="{height - 8}" fill="{colour}">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def column(name):
    return [int(r[name]) for r in rows]


if args.report:
    charts = [
        chart("Calls started per second", [("CPS", "#1f77b4", column("started"))], "calls/s"),
        chart("Live calls", [("live", "#2ca02c", column("live"))], "calls"),
        chart("Authorize round trip (per second)", [("p50", "#1f77b4", column("authorize_p50_us")),
                                                    ("p99", "#ff7f0e", column("authorize_p99_us")),
                                                    ("p99.9", "#d62728", column("authorize_p999_us"))], "µs"),
        chart("Tick lateness, server's last 10-second window", [("p99", "#ff7f0e", column("tick_window_p99_us")),
                                                                ("max", "#d62728", column("tick_window_max_us"))], "µs"),
        chart("Server resident memory", [("RSS", "#9467bd", [v // (1 << 20) for v in column("server_rss_bytes")])], "MiB"),
    ]
    table = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(json.dumps(v))}</td></tr>" for k, v in summary.items())
    with open(args.report, "w") as f:
        f.write(f"""<!doctype html><html><head><meta charset="utf-8"><title>Tollgate load: {html.escape(summary['scenario'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}th{{text-align:left;padding-right:2em;font-weight:normal;color:#555}}td{{font-family:monospace}}</style></head>
<body><h1>Tollgate load run: {html.escape(summary['scenario'])}</h1>
<p>{html.escape(args.machine)}</p>
{''.join(f'<div>{c}</div>' for c in charts)}
<h2>Summary</h2><table>{table}</table></body></html>
""")

print(json.dumps({k: summary[k] for k in ("scenario", "calls_started", "calls_completed", "calls_denied", "errors",
                                          "cps", "authorize_p50_us", "authorize_p99_us", "live_calls_peak",
                                          "cutoffs", "cutoff_lateness_p99_us", "overspend_micros",
                                          "balance_mismatch_micros")}))
