"""The Kamailio agent's TLS set-up on its own, without a SIP stack: a certificate file that does not load stops the
start and names the file; a Tollgate that takes the connection and never answers the TLS handshake is given up
after --auth-timeout-ms and tried again, the agent's loop never blocked by it. Run by the README's test command."""

import os
import socket
import subprocess
import tempfile
import time

from sipstack import AGENT, free_port, wait_for


def run_agent(work, *arguments):
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write("s3cret\n")
    return [AGENT, "--evapi", f"127.0.0.1:{free_port()}", "--secret-file", secret, *arguments]


def test_a_certificate_that_does_not_load_stops_the_start_and_is_named():
    with tempfile.TemporaryDirectory() as work:
        result = subprocess.run(run_agent(work, "--tls-cert", "/nonexistent/kamailio-1.pem"), capture_output=True,
                                text=True, timeout=10)
        assert result.returncode == 64, result
        assert "TLS certificate /nonexistent/kamailio-1.pem: No such file or directory" in result.stderr, result.stderr


def test_a_silent_handshake_is_given_up_in_time_and_retried():
    with tempfile.TemporaryDirectory() as work, socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        log_path = os.path.join(work, "agent.log")
        with open(log_path, "wb") as log:
            agent = subprocess.Popen(run_agent(work, "--tollgate", f"127.0.0.1:{port}", "--tls", "--auth-timeout-ms",
                                               "300"), stdout=log, stderr=log)
        try:
            def gave_up_twice():
                with open(log_path, errors="replace") as f:
                    return f.read().count("TLS handshake: no answer in time; retrying") >= 2
            started = time.monotonic()
            wait_for(gave_up_twice, 10, "two handshakes given up")
            # Each try: the 1 s reconnect delay, then 300 ms of handshake; the loop is not stuck in between.
            assert time.monotonic() - started < 6
            assert agent.poll() is None, "the agent keeps running"
        finally:
            agent.terminate()
            agent.wait(timeout=10)
        with open(log_path, errors="replace") as f:
            print(f.read())
