#!/usr/bin/env python3
"""Tollgate against Kamailio's own cnxcc, side by side, with real SIP: the same sipp load through the same Kamailio,
once billed by Tollgate (tollgate-kamailio-agent, clients/kamailio/kamailio-tollgate.cfg) and once by the cnxcc
module (LoadTests/sip/kamailio-cnxcc.cfg) set to the same tariff (0.02 a second, one-second pulses) and balances.

Measured for each, from sipp's message traces:
- cutoff lateness at the SIP level: BYE at the callee minus the exact boundary (the answer plus the seconds the
  balance buys), p50/p99/max;
- overspend per account with 1, 3 and 10 concurrent calls per account: talk time past the money, and what the
  billing system itself charged beyond the balance;
- the authorization round trip (INVITE sent to 180 Ringing back at the caller, the callee ringing at once: the
  proxy's work and the credit check) p50/p99 at 100, 400 and 800 calls per second.

Usage: LoadTests/sip-bench.py [--tollgate PATH] [--report FILE] [--quick]
Needs kamailio, kamailio-cnxcc-modules, sipp (the README's test command installs them), `swift build`, and
`make -C clients/kamailio`. Every load is bounded in calls and time; everything runs on 127.0.0.1."""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "clients", "kamailio", "tests"))
from sipstack import ROOT, Agent, Kamailio, Serve, SippUAS, percentile, run_uac  # noqa: E402

RATE = Decimal("0.02")
SECONDS_BOUGHT = 5           # every cutoff call's balance buys this many seconds of talk
ACCOUNTS_PER_ROUND = 5
CONCURRENCIES = (1, 3, 10)
SETUP_RATES = (100, 400, 800)
CNXCC_CONFIG = os.path.join(HERE, "sip", "kamailio-cnxcc.cfg")


def accounts():
    """{number: balance}: five accounts per concurrency whose balance buys SECONDS_BOUGHT for each of its calls, and
    ten rich ones for the setup measurements."""
    table = {}
    for k in CONCURRENCIES:
        for j in range(ACCOUNTS_PER_ROUND):
            table[f"3{k:02d}{j}"] = RATE * k * SECONDS_BOUGHT
    for j in range(10):
        table[f"40{j:02d}"] = Decimal("1000")
    return table


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    kamailio = subprocess.run(["kamailio", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout.strip().splitlines()
    return (f"{os.cpu_count()} CPUs ({model}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB, "
            f"Linux {platform.release()}; {kamailio}; {next((l for l in sipp if 'SIPp' in l), 'sipp').strip()}")


class TollgateSide:
    name = "Tollgate"

    def __init__(self, work, tollgate):
        self.serve = Serve(tollgate, work)
        self.serve.start()
        table = accounts()
        self.serve.set_up({number: (str(balance), False) for number, balance in table.items()}, grant_seconds=60)
        self.uas = SippUAS(work)
        self.uas.start()
        self.kamailio = Kamailio(work, self.uas.port, timing=True)
        self.kamailio.start()
        self.agent = Agent(work, self.kamailio, self.serve)
        self.agent.start()
        self.agent.wait_ready()

    def billed_beyond(self, number, balance):
        """Tollgate's ledger: how far below zero (the credit) the account went."""
        after = Decimal(self.serve.balance(number))
        return max(Decimal(0), -after)

    def stop(self):
        self.agent.stop()
        self.kamailio.stop()
        self.uas.stop()
        self.serve.stop()


class CnxccSide:
    name = "cnxcc"

    def __init__(self, work):
        self.uas = SippUAS(work)
        self.uas.start()
        credits = "\n".join(f'\t$sht(credit=>{number}) = "{balance}";' for number, balance in accounts().items())
        self.kamailio = Kamailio(work, self.uas.port, config=CNXCC_CONFIG, substitutions={"@CREDITS@": credits})
        self.kamailio.start()

    def billed_beyond(self, number, balance):
        """cnxcc keeps no books once a client's calls have ended (cnxcc.check_client lists live calls only): the
        talk past the money is its overspend."""
        return None

    def stop(self):
        self.kamailio.stop()
        self.uas.stop()


def cutoff_round(side, work, k):
    numbers = [f"3{k:02d}{j}" for j in range(ACCOUNTS_PER_ROUND)]
    balance = RATE * k * SECONDS_BOUGHT
    calls = [(number, "0999") for number in numbers for _ in range(k)]
    uac = run_uac(work, side.kamailio, calls, hold_ms=(SECONDS_BOUGHT + 10) * 1000, rate=100,
                  concurrency=len(calls))
    time.sleep(2)
    uas = side.uas.calls()
    lateness, beyond_ms, unanswered, not_cut = [], {n: 0.0 for n in numbers}, 0, 0
    for call in uac.values():
        leg = uas.get(call.call_id)
        if call.final_code != 200 or not leg or not leg.answered_at:
            unanswered += 1
            continue
        if not call.bye_from_proxy:   # the caller hung up: nobody cut the call
            not_cut += 1
        late = (leg.bye_at - leg.answered_at) * 1000 - SECONDS_BOUGHT * 1000
        lateness.append(late)
    # Talk past the money per account: sum over its calls (accounts named by the From user in the UAS trace).
    for call_id, leg in uas.items():
        if call_id not in uac or not leg.answered_at:
            continue
        number = caller_of(side, call_id)
        if number in beyond_ms:
            beyond_ms[number] += max(0.0, (leg.bye_at - leg.answered_at) * 1000 - SECONDS_BOUGHT * 1000)
    billed = {n: side.billed_beyond(n, balance) for n in numbers}
    billed_text = "n/a" if None in billed.values() else str(max(billed.values()))
    return dict(concurrency=k, calls=len(calls), unanswered=unanswered, not_cut=not_cut, lateness=lateness,
                talk_beyond_ms_max=max(beyond_ms.values()),
                talk_beyond_money_max=str((RATE * Decimal(max(beyond_ms.values())) / 1000).quantize(Decimal("0.000001"))),
                billed_beyond_max=billed_text)


_callers = {}


def caller_of(side, call_id):
    """The From user of a call, from the UAS's trace."""
    if not _callers.get(side.name):
        table = {}
        from sipstack import parse_trace
        for m in parse_trace(side.uas.trace):
            if m.first_line.startswith("INVITE") and m.call_id not in table:
                for line in m.text.splitlines():
                    line = line.strip()
                    if line.lower().startswith("from:"):
                        table[m.call_id] = line.split("sip:", 1)[1].split("@", 1)[0]
        _callers[side.name] = table
    return _callers[side.name].get(call_id)


def setup_round(side, work, cps):
    """Calls at `cps` a second for 8 s. The authorization's round trip as Kamailio timed it (from the INVITE's
    suspension to its resumption with Tollgate; around cnxcc_set_max_credit with cnxcc), and sipp's INVITE-to-180
    at the caller (the callee rings at once: the proxy's whole work; sipp counts in coarse ticks). Message traces
    stay off: writing every message would load the two cores more than the proxy does."""
    count = cps * 8
    before = len(side.kamailio.auth_round_trips())
    calls = [(f"40{j % 10:02d}", "0777") for j in range(count)]
    times = run_uac(work, side.kamailio, calls, hold_ms=500, rate=cps, concurrency=cps * 3, timeout=60, trace=False)
    time.sleep(1)
    auth = [us / 1000 for us in side.kamailio.auth_round_trips()[before:]]
    return dict(cps=cps, calls=count, authorized=len(auth), auth_p50=percentile(auth, 50),
                auth_p99=percentile(auth, 99), auth_max=max(auth) if auth else float("nan"), timed=len(times),
                p50=percentile(times, 50), p99=percentile(times, 99), max=max(times) if times else float("nan"))


def run_side(side, work, quick):
    results = {"cutoffs": [], "setup": []}
    for k in CONCURRENCIES:
        _callers.pop(side.name, None)
        results["cutoffs"].append(cutoff_round(side, work, k))
    # The callee again, without its message trace, on the same port.
    side.uas.stop()
    side.uas = SippUAS(work, port=side.uas.port, trace=False)
    side.uas.start()
    for cps in (SETUP_RATES[:1] if quick else SETUP_RATES):
        results["setup"].append(setup_round(side, work, cps))
    return results


def report(results, machine_text):
    lines = [f"Machine: {machine_text}", ""]
    lines.append("| system | calls per account | calls | BYE after the boundary p50 / p99 / max (ms) | not cut | "
                 "talk past the money, worst account | billed beyond the balance, worst account |")
    lines.append("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for c in r["cutoffs"]:
            l = c["lateness"]
            lines.append(f"| {name} | {c['concurrency']} | {c['calls']} | {percentile(l, 50):.1f} / "
                         f"{percentile(l, 99):.1f} / {max(l) if l else float('nan'):.1f} | {c['not_cut']} | "
                         f"{c['talk_beyond_ms_max']:.0f} ms ({c['talk_beyond_money_max']}) | {c['billed_beyond_max']} |")
    lines.append("")
    lines.append("| system | calls per second | calls | authorization round trip in Kamailio p50 / p99 / max (ms) | "
                 "INVITE to 180 at the caller p50 / p99 / max (ms) | calls that rang |")
    lines.append("|---|---|---|---|---|---|")
    for name, r in results.items():
        for s in r["setup"]:
            lines.append(f"| {name} | {s['cps']} | {s['calls']} | {s['auth_p50']:.2f} / {s['auth_p99']:.2f} / "
                         f"{s['auth_max']:.2f} | {s['p50']:.0f} / {s['p99']:.0f} / {s['max']:.0f} | {s['timed']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tollgate", default=os.path.join(ROOT, ".build", "release", "tollgate"))
    parser.add_argument("--report")
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="one setup rate only")
    parser.add_argument("--only", choices=["tollgate", "cnxcc"])
    arguments = parser.parse_args()
    results = {}
    for name in ("tollgate", "cnxcc"):
        if arguments.only and arguments.only != name:
            continue
        work = tempfile.mkdtemp(prefix=f"sip-bench-{name}-")
        print(f"== {name}: {work}", flush=True)
        side = TollgateSide(work, arguments.tollgate) if name == "tollgate" else CnxccSide(work)
        try:
            results[side.name] = run_side(side, work, arguments.quick)
        finally:
            side.stop()
        print(json.dumps(results[side.name], default=str)[:2000], flush=True)
    text = report(results, machine())
    print(text)
    if arguments.report:
        with open(arguments.report, "w") as f:
            f.write(text + "\n")
    if arguments.json:
        with open(arguments.json, "w") as f:
            json.dump(results, f, default=str, indent=1)


if __name__ == "__main__":
    main()
