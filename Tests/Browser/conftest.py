"""A real `tollgate serve` on a fresh SQLite file, a real PBX connection (the C client's tg_pbx) and headless
Chromium, shared by the console's browser tests (which run in file order, as one operator's session would)."""
import os
import queue
import random
import subprocess
import tempfile
import threading
import time

import pytest
import requests

# Selenium Manager is never asked for anything: Debian's chromedriver is used, and no usage statistics are sent.
os.environ["SE_AVOID_STATS"] = "true"
from selenium import webdriver  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN_PASSWORD = "admin-password-browser"
SECRET = "browser-secret"


class PBX:
    """tg_pbx driven line by line; pushes (hangups, grants, cutoffs) are collected as they arrive."""

    def __init__(self, port):
        self.process = subprocess.Popen(
            [os.path.join(ROOT, "clients/c/build/tg_pbx"), "127.0.0.1", str(port), "pbx-browser"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, "TOLLGATE_SECRET": SECRET})
        self.replies = queue.Queue()
        self.pushes = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.replies.get(timeout=10) == "ready"

    def _read(self):
        for line in self.process.stdout:
            line = line.rstrip("\n")
            kind = line.split(" ", 1)[0]
            (self.pushes if kind in ("hangup", "cutoff", "warning", "grant") else self.replies).put(line)

    def send(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.replies.get(timeout=10)

    def wait_push(self, prefix, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.pushes.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no push starting with {prefix!r} within {timeout} s")

    def close(self):
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()


class Server:
    def __init__(self, tollgate):
        self.data = tempfile.mkdtemp(prefix="tollgate-browser-")
        self.http_port = random.randint(21000, 29000)
        self.pbx_port = self.http_port + 1
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.log = open(os.path.join(self.data, "serve.log"), "w")
        self.process = subprocess.Popen(
            [tollgate, "serve", "--data-dir", self.data, "--pbx-listen", f"127.0.0.1:{self.pbx_port}",
             "--http-listen", f"127.0.0.1:{self.http_port}"],
            stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "TOLLGATE_PBX_SECRET": SECRET, "TOLLGATE_ADMIN_PASSWORD": ADMIN_PASSWORD,
                 "TOLLGATE_BCRYPT_COST": "4"})
        for _ in range(300):
            try:
                if requests.get(self.base + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not start: " + open(os.path.join(self.data, "serve.log")).read())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def server():
    tollgate = os.environ.get("TOLLGATE", os.path.join(ROOT, ".build/debug/tollgate"))
    started = Server(tollgate)
    yield started
    started.stop()
    verify = subprocess.run([tollgate, "verify", "--data-dir", started.data], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.fixture(scope="session")
def pbx(server):
    connected = PBX(server.pbx_port)
    yield connected
    connected.close()


@pytest.fixture(scope="session")
def shots():
    folder = os.environ.get("TOLLGATE_SHOTS") or tempfile.mkdtemp(prefix="tollgate-console-shots-")
    os.makedirs(folder, exist_ok=True)
    print(f"\nconsole screenshots: {folder}")
    return folder


@pytest.fixture(scope="session")
def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     "--disable-sync", "--disable-default-apps", "--disable-extensions", "--lang=en-GB"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
    # Pages load after a click returns: element look-ups wait for them a little.
    driver.implicitly_wait(3)
    yield driver
    driver.quit()
