"""Real SIP calls billed by Tollgate through Kamailio and tollgate-kamailio-agent (sipp UAC -> Kamailio -> sipp UAS,
all on loopback), run by the README's test command. The agent reaches Tollgate over TLS with a certificate of its
own (a throwaway CA; serve's PBX port asks for client certificates); test_sip_plaintext.py runs a call without.

- a locked extension and one without money are refused with 403 and 402;
- a call on a small balance gets BYE on both legs at its boundary (lateness measured);
- three concurrent calls on one balance: none overspends, each is cut at its own boundary;
- every answered call has exactly one CDR whose cost is cost(billable) for the duration sipp saw;
- kill -9 of serve mid-call: the agent reconnects and resyncs, the call goes on and is billed;
- a restart of the agent mid-call: it rebuilds the call from Kamailio's dialogs, which is then billed;
- an operator's hang-up (`tollgate live hangup`) ends the call with BYE on both legs;
- Tollgate unreachable (frozen): a new call is refused with 503 and a live one ends at its grant's end through the
  dialog timeout, billed once Tollgate is back;
- an agent with a certificate from another CA is refused, and says why;
- `tollgate verify` is clean at the end.

Usage: python3 -m pytest -q -s clients/kamailio/tests (after `swift build` and `make -C clients/kamailio`);
TOLLGATE names the tollgate binary (default .build/debug/tollgate)."""

import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from decimal import Decimal

import pytest

from sipstack import (ROOT, Agent, Certificates, Kamailio, Serve, SippUAS, free_port, percentile, run_uac, uac_result,
                      wait_for)

RATE = Decimal("0.02")    # per second, unit 1 s
EXTENSIONS = {
    "1001": ("100", True),     # locked
    "1002": ("0", False),      # no money
    "1003": ("0.05", False),   # two units, then cut at 2 s
    "1004": ("0.30", False),   # three calls at once: five units each, cut at 5 s
    "1005": ("100", False),    # plenty: serve killed mid-call
    "1006": ("100", False),    # plenty: the agent restarted mid-call
    "1007": ("100", False),    # plenty: calls hung up by the caller
    "1008": ("100", False),    # plenty: Tollgate unreachable mid-call
    "1009": ("100", False),    # plenty: hung up by an operator
}
GRANT_SECONDS = 4


def cost(billable_ms):
    return RATE * math.ceil(billable_ms / 1000)


def callee_legs(stack, call_ids, seconds=3):
    """The callee's view of these calls once each has its BYE in the UAS's trace (sipp writes it a moment after
    the caller's side has finished)."""
    deadline = time.monotonic() + seconds
    while True:
        legs = stack.uas.calls()
        if all(legs.get(i) and legs[i].bye_at for i in call_ids) or time.monotonic() > deadline:
            return legs


@pytest.fixture(scope="module")
def stack():
    work = tempfile.mkdtemp(prefix="tollgate-sip-")
    tollgate = os.environ.get("TOLLGATE", os.path.join(ROOT, ".build", "debug", "tollgate"))
    certificates = Certificates(work, ["kamailio-e2e"])
    serve = Serve(tollgate, work, certificates)
    serve.start()
    serve.set_up(EXTENSIONS, grant_seconds=GRANT_SECONDS)
    uas = SippUAS(work)
    uas.start()
    kamailio = Kamailio(work, uas.port)
    kamailio.start()
    agent = Agent(work, kamailio, serve, certificates)
    agent.start()
    agent.wait_ready()
    stack = type("Stack", (), dict(work=work, serve=serve, uas=uas, kamailio=kamailio, agent=agent,
                                   certificates=certificates))
    print(f"\nSIP stack in {work}: serve pbx {serve.pbx_port} http {serve.http_port}, Kamailio udp "
          f"{kamailio.sip_port} evapi {kamailio.evapi_port}, UAS {uas.port}")
    yield stack
    agent.stop()
    kamailio.stop()
    uas.stop()
    serve.stop()
    result = subprocess.run([tollgate, "verify", "--data-dir", serve.data], capture_output=True, text=True)
    print(result.stdout + result.stderr)
    assert result.returncode == 0, "tollgate verify found differences"
    if os.environ.get("KEEP_SIP_WORK") is None:
        shutil.rmtree(work, ignore_errors=True)


def test_refusals_carry_the_documented_status(stack):
    calls = run_uac(stack.work, stack.kamailio, [("1001", "0123456"), ("1002", "0123456")], hold_ms=1000)
    codes = sorted(c.final_code for c in calls.values())
    assert codes == [402, 403], f"locked -> 403, no money -> 402; got {codes}"


def test_a_small_balance_is_cut_at_its_boundary_on_both_legs(stack):
    calls = run_uac(stack.work, stack.kamailio, [("1003", "0200")], hold_ms=10000)
    (call,) = calls.values()
    assert call.final_code == 200 and call.bye_from_proxy, "the caller got BYE from the proxy"
    uas = callee_legs(stack, [call.call_id])[call.call_id]
    assert uas.bye_from_proxy and uas.bye_at, "the callee got BYE too"
    # 0.05 at 0.02 a second: units paid at 0 s and 1 s, cut at 2 s after the answer.
    lateness_uas = (uas.bye_at - uas.answered_at) * 1000 - 2000
    lateness_uac = (call.bye_at - call.answered_at) * 1000 - 2000
    print(f"cutoff at the boundary: BYE {lateness_uas:.1f} ms (callee) / {lateness_uac:.1f} ms (caller) after it")
    assert -50 < lateness_uas < 500 and -50 < lateness_uac < 500
    assert Decimal(stack.serve.balance("1003")) == Decimal("0.01")


def test_three_calls_on_one_balance_each_cut_at_its_own_boundary(stack):
    calls = run_uac(stack.work, stack.kamailio, [("1004", "0300")] * 3, hold_ms=20000, rate=20)
    uas = callee_legs(stack, list(calls))
    latenesses = []
    for call in calls.values():
        assert call.final_code == 200 and call.bye_from_proxy
        leg = uas[call.call_id]
        # 0.30 for three calls at 0.02 a second each: five units apiece, each cut 5 s after its own answer.
        latenesses.append((leg.bye_at - leg.answered_at) * 1000 - 5000)
    print("three calls, one balance: BYE " + ", ".join(f"{l:.1f}" for l in latenesses) + " ms after each boundary")
    assert all(-50 < l < 500 for l in latenesses)
    assert Decimal(stack.serve.balance("1004")) == Decimal("0.00"), "nothing overspent, nothing left"


def test_calls_hung_up_by_the_caller_have_one_cdr_each_at_their_price(stack):
    calls = run_uac(stack.work, stack.kamailio, [("1007", "0400")] * 5, hold_ms=1500, rate=10)
    assert all(c.final_code == 200 and not c.bye_from_proxy for c in calls.values())
    time.sleep(0.5)
    check_cdrs(stack, "1007", calls, callee_legs(stack, list(calls)))


def check_cdrs(stack, extension, calls, uas):
    """One CDR per answered call, billed cost(billable) for the time sipp saw between answer and BYE."""
    records = stack.serve.calls(extension)
    rows = records["items"]
    by_id = {}
    for row in rows:
        by_id.setdefault(row["callId"], []).append(row)
    for call in calls.values():
        if call.final_code != 200:
            continue
        assert len(by_id.get(call.call_id, [])) == 1, f"exactly one CDR for {call.call_id}"
        row = by_id[call.call_id][0]
        billable = row["billableMillis"]
        seen = (uas[call.call_id].bye_at - uas[call.call_id].answered_at) * 1000
        assert abs(billable - seen) < 100, f"billed {billable} ms, sipp saw {seen:.0f} ms"
        assert Decimal(row["cost"]) == cost(billable), f"cost {row['cost']} for {billable} ms"


def test_all_cut_calls_have_one_cdr_at_their_price(stack):
    uas = stack.uas.calls()
    for extension in ("1003", "1004"):
        records = stack.serve.calls(extension)
        rows = records["items"]
        answered = [r for r in rows if r["result"] in ("cutoff", "completed")]
        assert answered, f"calls of {extension} in the call log"
        ids = [r["callId"] for r in answered]
        assert len(ids) == len(set(ids))
        for row in answered:
            leg = uas.get(row["callId"])
            assert leg, "a CDR for a call sipp placed"
            billable = row["billableMillis"]
            assert Decimal(row["cost"]) == cost(billable)


def test_serve_killed_mid_call_the_call_goes_on_and_is_billed(stack):
    uac = run_uac(stack.work, stack.kamailio, [("1005", "0500")], hold_ms=8000, background=True)
    time.sleep(2.5)
    stack.serve.kill()
    reconnects = stack.agent.log_count("tollgate: connected")
    stack.serve.start()
    deadline = time.monotonic() + 15
    while stack.agent.log_count("tollgate: connected") <= reconnects and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stack.agent.log_count("tollgate: connected") > reconnects, "the agent reconnected"
    calls = uac_result(uac)
    (call,) = calls.values()
    assert call.final_code == 200 and not call.bye_from_proxy, "the call went on until the caller hung up"
    time.sleep(1.0)
    check_cdrs(stack, "1005", calls, callee_legs(stack, list(calls)))


def test_agent_restarted_mid_call_rebuilds_it_from_kamailio(stack):
    uac = run_uac(stack.work, stack.kamailio, [("1006", "0600")], hold_ms=8000, background=True)
    time.sleep(2.5)
    stack.agent.stop(signal.SIGKILL)
    taken = stack.agent.log_count("taken up from its list")
    stack.agent.start()
    stack.agent.wait_ready()
    deadline = time.monotonic() + 10
    while stack.agent.log_count("taken up from its list") <= taken and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "1 taken up from its list" in stack.agent.read_log(), "the agent took the call up from dlg.list"
    calls = uac_result(uac)
    (call,) = calls.values()
    assert call.final_code == 200 and not call.bye_from_proxy
    time.sleep(1.0)
    check_cdrs(stack, "1006", calls, callee_legs(stack, list(calls)))


def test_tollgate_unreachable_new_calls_refused_live_calls_end_within_their_grant(stack):
    uac = run_uac(stack.work, stack.kamailio, [("1008", "0800")], hold_ms=30000, background=True)
    time.sleep(1.5)
    stack.serve.process.send_signal(signal.SIGSTOP)
    frozen_at = time.time()
    try:
        refused = run_uac(stack.work, stack.kamailio, [("1007", "0801")], hold_ms=1000)
        assert [c.final_code for c in refused.values()] == [503], "a new call is refused while Tollgate is away"
        calls = uac_result(uac)
    finally:
        stack.serve.process.send_signal(signal.SIGCONT)
    (call,) = calls.values()
    assert call.final_code == 200 and call.bye_from_proxy, "the live call was ended by the proxy"
    after_freeze = call.bye_at - frozen_at
    print(f"Tollgate frozen: the live call ended {after_freeze:.2f} s later (grant {GRANT_SECONDS} s)")
    # The last renewal came at most a grant before; the dialog timer adds up to one second.
    assert after_freeze <= GRANT_SECONDS + 1.5
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(r["callId"] == call.call_id
                                                    for r in stack.serve.calls("1008")["items"]):
        time.sleep(0.2)
    (row,) = [r for r in stack.serve.calls("1008")["items"] if r["callId"] == call.call_id]
    seen = (call.bye_at - call.answered_at) * 1000
    assert abs(row["billableMillis"] - seen) < 100 and Decimal(row["cost"]) == cost(row["billableMillis"]), \
        "billed for the time it lasted, once Tollgate came back"


def test_an_operators_hangup_ends_the_call_on_both_legs(stack):
    uac = run_uac(stack.work, stack.kamailio, [("1009", "0900")], hold_ms=15000, background=True)
    deadline = time.monotonic() + 10
    live = []
    while time.monotonic() < deadline and not live:
        live = [c for c in stack.serve.cli_json("live", "list")
                if c["extensionNumber"] == "1009" and c["phase"] == "answered"]
        time.sleep(0.2)
    assert live, "the call is live in Tollgate"
    stack.serve.cli("live", "hangup", live[0]["callId"], "--reason", "operator test")
    (call,) = uac_result(uac).values()
    legs = callee_legs(stack, [call.call_id])
    assert call.bye_from_proxy and legs[call.call_id].bye_at, "BYE to the caller and to the callee"
    assert (call.bye_at - call.answered_at) < 10, "well before the caller would have hung up"
    time.sleep(0.5)
    check_cdrs(stack, "1009", {call.call_id: call}, legs)


def test_an_agent_with_a_strangers_certificate_is_refused_and_says_why(stack):
    # Its evapi side points at a closed port, so that it takes none of Kamailio's events from the agent in service.
    closed = type("NoKamailio", (), dict(evapi_port=free_port()))
    stranger = Agent(stack.work, closed, stack.serve, stack.certificates, node="stranger", log_name="stranger.log")
    stranger.start()
    try:
        wait_for(lambda: "retrying" in stranger.read_log() or "disconnected" in stranger.read_log(), 15,
                 "the stranger's refusal")
        time.sleep(0.3)
        log = stranger.read_log()
        print(log)
        assert "tollgate: ready" not in log, "a certificate from another CA got a session"
        assert "TLS" in log, "the refusal says it is TLS's"
    finally:
        stranger.stop()
