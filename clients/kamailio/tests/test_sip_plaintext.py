"""The Kamailio agent on a plaintext PBX port (Tollgate on the same host, or a private network): a call is billed
at its price and cut at its boundary, as over TLS (test_sip_e2e.py). Run by the README's test command."""

import os
import shutil
import subprocess
import tempfile
import time
from decimal import Decimal

import pytest

from sipstack import ROOT, Agent, Kamailio, Serve, SippUAS, run_uac


@pytest.fixture(scope="module")
def stack():
    work = tempfile.mkdtemp(prefix="tollgate-sip-plain-")
    tollgate = os.environ.get("TOLLGATE", os.path.join(ROOT, ".build", "debug", "tollgate"))
    serve = Serve(tollgate, work)
    serve.start()
    serve.set_up({"2001": ("0.05", False)}, grant_seconds=4)
    uas = SippUAS(work)
    uas.start()
    kamailio = Kamailio(work, uas.port)
    kamailio.start()
    agent = Agent(work, kamailio, serve)
    agent.start()
    agent.wait_ready()
    yield type("Stack", (), dict(work=work, serve=serve, kamailio=kamailio, agent=agent))
    agent.stop()
    kamailio.stop()
    uas.stop()
    serve.stop()
    result = subprocess.run([tollgate, "verify", "--data-dir", serve.data], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    if os.environ.get("KEEP_SIP_WORK") is None:
        shutil.rmtree(work, ignore_errors=True)


def test_a_call_over_plaintext_is_cut_at_its_boundary_and_billed(stack):
    assert "(TLS" not in stack.agent.read_log()
    calls = run_uac(stack.work, stack.kamailio, [("2001", "0200")], hold_ms=10000)
    (call,) = calls.values()
    assert call.final_code == 200 and call.bye_from_proxy, "the caller got BYE from the proxy"
    # 0.05 at 0.02 a second: units paid at 0 s and 1 s, cut at 2 s after the answer.
    held_ms = (call.bye_at - call.answered_at) * 1000
    assert 1950 < held_ms < 2500, held_ms
    time.sleep(0.5)
    (record,) = stack.serve.calls("2001")["items"]
    assert Decimal(record["cost"]) == Decimal("0.04"), record
    assert Decimal(stack.serve.balance("2001")) == Decimal("0.01")
