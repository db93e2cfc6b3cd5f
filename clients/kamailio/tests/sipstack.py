"""A real SIP stack on loopback for the Kamailio agent's end-to-end tests and measurements: `tollgate serve` (set up
through the admin CLI, as an operator does), Kamailio with the shipped configuration, tollgate-kamailio-agent, a
sipp UAS, and sipp UACs whose message traces give the instants of each answer and BYE."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT_DIR = os.path.dirname(HERE)
ROOT = os.path.abspath(os.path.join(AGENT_DIR, "..", ".."))
CONFIG = os.path.join(AGENT_DIR, "kamailio-tollgate.cfg")
AGENT = os.path.join(AGENT_DIR, "build", "tollgate-kamailio-agent")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not within {seconds} s")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Certificates:
    """A throwaway CA (openssl) in DIR/certs: a server certificate for 127.0.0.1, a certificate for each node named
    (the node id as its DNS name), and a stranger's from another CA."""

    def __init__(self, work, nodes):
        self.dir = os.path.join(work, "certs")
        os.makedirs(self.dir, exist_ok=True)
        self.ca = self._authority("ca")
        self._authority("other-ca")
        self._leaf("ca", "server", "IP:127.0.0.1")
        for node in nodes:
            self._leaf("ca", node, f"DNS:{node}")
        self._leaf("other-ca", "stranger", "DNS:stranger")

    def path(self, name, suffix):
        return os.path.join(self.dir, name + suffix)

    def _openssl(self, *arguments):
        subprocess.run(["openssl", *arguments], check=True, capture_output=True)

    def _authority(self, name):
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                      self.path(name, ".key"), "-out", self.path(name, ".pem"), "-days", "2", "-subj", f"/CN={name}")
        return self.path(name, ".pem")

    def _leaf(self, authority, name, san):
        with open(self.path(name, ".ext"), "w") as f:
            f.write(f"subjectAltName={san}\n")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                      self.path(name, ".key"), "-out", self.path(name, ".csr"), "-subj", f"/CN={name}")
        self._openssl("x509", "-req", "-in", self.path(name, ".csr"), "-CA", self.path(authority, ".pem"), "-CAkey",
                      self.path(authority, ".key"), "-CAcreateserial", "-out", self.path(name, ".pem"), "-days", "2",
                      "-extfile", self.path(name, ".ext"))


class Serve:
    """`tollgate serve` on a data directory, with the admin CLI signed in as a billing user. With certificates,
    its PBX port speaks TLS and asks each node for its certificate."""

    def __init__(self, tollgate, work, certificates=None):
        self.tollgate = tollgate
        self.work = work
        self.data = os.path.join(work, "data")
        self.pbx_port = free_port()
        self.http_port = free_port()
        self.secret = "sip-e2e-secret"
        self.env = dict(os.environ, TOLLGATE_API=f"127.0.0.1:{self.http_port}",
                        TOLLGATE_TOKEN_FILE=os.path.join(work, "token"), TOLLGATE_BCRYPT_COST="4",
                        TOLLGATE_PBX_SECRET=self.secret, TOLLGATE_ADMIN_PASSWORD="admin-password-1")
        if certificates:
            self.env.update(TOLLGATE_PBX_TLS_CERTIFICATE=certificates.path("server", ".pem"),
                            TOLLGATE_PBX_TLS_KEY=certificates.path("server", ".key"),
                            TOLLGATE_PBX_TLS_CLIENT_CA=certificates.ca)
        self.process = None
        self.log = open(os.path.join(work, "serve.log"), "ab")

    def start(self):
        self.process = subprocess.Popen(
            [self.tollgate, "serve", "--data-dir", self.data, "--pbx-listen", f"127.0.0.1:{self.pbx_port}",
             "--http-listen", f"127.0.0.1:{self.http_port}"], env=self.env, stdout=self.log, stderr=self.log)
        wait_for(lambda: port_open(self.pbx_port) and port_open(self.http_port), 30, "tollgate serve")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def cli(self, *arguments, password=None, check=True):
        env = dict(self.env)
        if password:
            env["TOLLGATE_PASSWORD"] = password
        result = subprocess.run([self.tollgate, *arguments], env=env, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise RuntimeError(f"tollgate {' '.join(arguments)}: {result.returncode}\n{result.stdout}{result.stderr}")
        return result.stdout

    def cli_json(self, *arguments):
        return json.loads(self.cli(*arguments, "--json"))

    def set_up(self, extensions, rate="0.02", unit=1, grant_seconds=4):
        """Billing on, a billing user signed in, the extensions ({number: (balance, locked)}), one rate."""
        self.cli("login", "--user", "admin", password="admin-password-1")
        self.cli("billing", "on")
        user = self.cli_json("user", "add", "bill-sip")
        self.cli("login", "--user", "bill-sip", password=user["password"])
        self.cli("settings", "set", "--grant-validity", str(grant_seconds), "--warning-lead", "1")
        for number, (balance, locked) in extensions.items():
            self.cli("ext", "add", number, "--name", f"Phone {number}")
            self.cli("ext", "edit", number, "--billing", "on", *(["--status", "locked"] if locked else []))
            if balance != "0":
                self.cli("recharge", number, "--amount", balance, "--key", f"setup-{number}")
        self.cli("rate", "add", "--prefix", "0", "--rate", rate, "--unit", str(unit), "--extensions",
                 *extensions.keys())

    def calls(self, extension):
        return self.cli_json("calls", "list", "--extension", extension, "--limit", "1000")

    def balance(self, extension):
        return self.cli_json("ext", "show", extension)["balance"]


class Kamailio:
    """Kamailio on loopback ports with a configuration (the shipped one by default); `substitutions` replace text
    in a copy of it (the comparison's balances)."""

    def __init__(self, work, uas_port, config=CONFIG, substitutions=None, timing=False):
        self.work = work
        self.timing = timing
        self.run_dir = os.path.join(work, "kamailio")
        os.makedirs(self.run_dir, exist_ok=True)
        self.config = config
        if substitutions:
            with open(config) as f:
                text = f.read()
            for old, new in substitutions.items():
                text = text.replace(old, new)
            self.config = os.path.join(self.run_dir, os.path.basename(config))
            with open(self.config, "w") as f:
                f.write(text)
        self.sip_port = free_port(socket.SOCK_DGRAM)
        self.evapi_port = free_port()
        self.uas_port = uas_port
        self.log_path = os.path.join(work, "kamailio.log")
        self.log = open(self.log_path, "ab")
        self.process = None

    def start(self):
        defines = {
            "SIP_LISTEN": f"udp:127.0.0.1:{self.sip_port}",
            "DESTINATION": f'"sip:127.0.0.1:{self.uas_port}"',
            "EVAPI_BIND": f'"127.0.0.1:{self.evapi_port}"',
            "CTL_SOCKET": f'"unix:{self.run_dir}/ctl"',
            "RPC_FIFO": f'"{self.run_dir}/rpc.fifo"',
        }
        arguments = ["kamailio", "-f", self.config, "-DD", "-E", "-m", "256", "-M", "16", "-Y", self.run_dir]
        for name, value in defines.items():
            arguments += ["-A", f"{name}={value}"]
        if self.timing:
            arguments += ["-A", "TOLLGATE_TIMING"]
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=self.log)
        if "evapi" in open(self.config).read():
            wait_for(lambda: port_open(self.evapi_port), 30, "Kamailio's evapi")
        else:
            time.sleep(1.5)

    def auth_round_trips(self):
        """The authorization round trips (µs) Kamailio logged with timing on, in order."""
        with open(self.log_path, errors="replace") as f:
            return [int(line.rsplit("auth_rtt_us=", 1)[1].split()[0]) for line in f if "auth_rtt_us=" in line]

    def rpc(self, *command):
        """A command through Kamailio's control socket (kamcmd)."""
        result = subprocess.run(["kamcmd", "-s", f"unix:{self.run_dir}/ctl", *command], capture_output=True,
                                text=True, timeout=10)
        return result.stdout

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Agent:
    """tollgate-kamailio-agent between Kamailio and serve; over TLS with the node's certificate when the serve has
    certificates (`node` names the certificate: a stranger's, for instance)."""

    def __init__(self, work, kamailio, serve, certificates=None, node="kamailio-e2e", log_name="agent.log"):
        self.certificates = certificates
        self.node = node
        self.work = work
        self.kamailio = kamailio
        self.serve = serve
        self.secret_file = os.path.join(work, "pbx-secret")
        with open(self.secret_file, "w") as f:
            f.write(serve.secret + "\n")
        self.log_path = os.path.join(work, log_name)
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        tls = []
        if self.certificates:
            c = self.certificates
            tls = ["--tls-ca", c.ca, "--tls-cert", c.path(self.node, ".pem"), "--tls-key", c.path(self.node, ".key")]
        self.process = subprocess.Popen(
            [AGENT, "--evapi", f"127.0.0.1:{self.kamailio.evapi_port}", "--tollgate",
             f"127.0.0.1:{self.serve.pbx_port}", "--node-id", "kamailio-e2e", "--secret-file", self.secret_file,
             *tls], stdout=log, stderr=log)

    def wait_ready(self, seconds=15):
        wait_for(lambda: "tollgate: ready" in self.read_log() and "evapi: connected" in self.read_log(), seconds,
                 "the agent")

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_count(self, text):
        return self.read_log().count(text)

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)


# --- sipp -------------------------------------------------------------------------------------------------------

UAS_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="tollgate e2e uas">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
  <timewait milliseconds="1000"/>
</scenario>
"""

UAC_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="tollgate e2e uac">
  <send retrans="500" start_rtd="1">
    <![CDATA[
      INVITE sip:[field1]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field1]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true" rtd="1"/>
  <recv response="183" optional="true"/>
  <recv response="402" optional="true" next="refused"/>
  <recv response="403" optional="true" next="refused"/>
  <recv response="404" optional="true" next="refused"/>
  <recv response="503" optional="true" next="refused"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv request="BYE" timeout="HOLD_MS" ontimeout="hangup"/>
  <send next="end">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <label id="hangup"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" next="end"/>
  <label id="refused"/>
  <send>
    <![CDATA[
      ACK sip:[field1]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <label id="end"/>
</scenario>
"""

TRACE_HEADER = re.compile(r"^-{20,} (\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2}(?:\.\d+)?)", re.M)


@dataclass
class SipMessage:
    at: float            # seconds since the epoch
    sent: bool
    first_line: str
    call_id: str
    cseq: str
    text: str


def parse_trace(path):
    """The messages of a sipp -trace_msg file, in order, with their instants."""
    with open(path, errors="replace") as f:
        content = f.read()
    messages = []
    headers = list(TRACE_HEADER.finditer(content))
    for i, header in enumerate(headers):
        block = content[header.end(): headers[i + 1].start() if i + 1 < len(headers) else len(content)]
        stamp = datetime.strptime(f"{header.group(1)} {header.group(2)}", "%Y-%m-%d %H:%M:%S.%f").timestamp()
        lines = [line.strip() for line in block.strip().splitlines()]
        direction = lines[0] if lines else ""
        body = [line for line in lines[1:] if line]
        first = body[0] if body else ""
        call_id = next((l.split(":", 1)[1].strip() for l in body if l.lower().startswith("call-id:")), "")
        cseq = next((l.split(":", 1)[1].strip() for l in body if l.lower().startswith("cseq:")), "")
        messages.append(SipMessage(stamp, "sent" in direction.lower(), first, call_id, cseq, block))
    return messages


@dataclass
class CallTrace:
    call_id: str
    invite_at: float = 0.0       # the INVITE sent (UAC) or received (UAS)
    final_code: int = 0
    answered_at: float = 0.0     # 200 OK to the INVITE
    bye_at: float = 0.0          # the BYE (received, or sent when the caller hung up)
    bye_from_proxy: bool = False


def calls_in(messages, side):
    """Per Call-ID: the final response, the answer and the BYE, as the UAC (side="uac") or UAS saw them."""
    calls = {}
    for m in messages:
        call = calls.setdefault(m.call_id, CallTrace(m.call_id))
        if m.first_line.startswith("INVITE") and not call.invite_at:
            call.invite_at = m.at
        elif m.first_line.startswith("SIP/2.0") and "INVITE" in m.cseq:
            code = int(m.first_line.split()[1])
            if code >= 200 and not call.final_code:
                call.final_code = code
                if code == 200:
                    call.answered_at = m.at
        elif m.first_line.startswith("BYE") and not call.bye_at:
            call.bye_at = m.at
            call.bye_from_proxy = not m.sent
    return calls


class SippUAS:
    """The callee: answers every INVITE at once (180, then 200). With trace=False it writes no message trace (for
    loads where writing every message would cost more than the proxy)."""

    def __init__(self, work, port=None, trace=True):
        self.work = os.path.join(work, "uas")
        os.makedirs(self.work, exist_ok=True)
        self.port = port or free_port(socket.SOCK_DGRAM)
        self.tracing = trace
        self.scenario = os.path.join(self.work, "uas.xml")
        with open(self.scenario, "w") as f:
            f.write(UAS_SCENARIO)
        self.trace = os.path.join(self.work, "uas_messages.log")
        self.process = None

    def start(self):
        tracing = ["-trace_msg", "-message_file", self.trace] if self.tracing else []
        self.process = subprocess.Popen(
            ["sipp", "-sf", self.scenario, "-i", "127.0.0.1", "-p", str(self.port), *tracing, "-nostdin",
             "-default_behaviors", "all,-abortunexp", "-max_socket", "4096"], cwd=self.work,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def calls(self):
        return calls_in(parse_trace(self.trace), "uas") if os.path.exists(self.trace) else {}

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


_uac_runs = [0]


def run_uac(work, kamailio, calls, hold_ms, rate=10, concurrency=None, timeout=None, background=False, trace=True):
    """Places calls [(caller, callee)] through Kamailio with sipp; each caller hangs up after hold_ms unless the
    proxy sends BYE first. Returns the Popen (background) or {call_id: CallTrace} from the UAC's trace; with
    trace=False (a load too heavy to write every message), the list of INVITE-to-180 times in ms instead."""
    _uac_runs[0] += 1
    run = os.path.join(work, f"uac-{_uac_runs[0]}")
    os.makedirs(run, exist_ok=True)
    scenario = os.path.join(run, "uac.xml")
    with open(scenario, "w") as f:
        f.write(UAC_SCENARIO.replace("HOLD_MS", str(hold_ms)))
    fields = os.path.join(run, "calls.csv")
    with open(fields, "w") as f:
        f.write("SEQUENTIAL\n" + "".join(f"{caller};{callee};\n" for caller, callee in calls))
    trace_path = os.path.join(run, "uac_messages.log")
    arguments = ["sipp", f"127.0.0.1:{kamailio.sip_port}", "-sf", scenario, "-inf", fields, "-i", "127.0.0.1",
                 "-p", str(free_port(socket.SOCK_DGRAM)), "-m", str(len(calls)), "-r", str(rate),
                 "-l", str(concurrency or len(calls)), "-nostdin", "-default_behaviors", "all,-abortunexp",
                 "-timeout", str(int((timeout or (hold_ms / 1000 + 30)))), "-timeout_error"]
    arguments += ["-trace_msg", "-message_file", trace_path] if trace else ["-trace_rtt", "-rtt_freq", "1"]
    output = open(os.path.join(run, "sipp.out"), "wb")
    process = subprocess.Popen(arguments, cwd=run, stdout=output, stderr=output)
    if background:
        process.trace = trace_path
        return process
    process.wait()
    if not trace:
        return response_times(run)
    return calls_in(parse_trace(trace_path), "uac")


def response_times(run):
    """The INVITE-to-180 times (ms) sipp recorded with -trace_rtt."""
    times = []
    for name in os.listdir(run):
        if name.endswith("_rtt.csv"):
            with open(os.path.join(run, name)) as f:
                for line in f:
                    fields = line.strip().split(";")
                    try:
                        times.append(float(fields[1]))
                    except (IndexError, ValueError):
                        pass
    return times


def uac_result(process):
    process.wait()
    return calls_in(parse_trace(process.trace), "uac")


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]
