#!/usr/bin/env python3
"""Plays systemd's side of sd_notify for the install test: binds a datagram socket at PATH and prints each
message it receives, one line per message with newlines shown as '|', until it has seen STOPPING=1 or
--seconds pass. Exits 0 only if READY=1 and WATCHDOG=1 arrived."""
import argparse
import os
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("--seconds", type=float, default=120)
args = parser.parse_args()
if os.path.exists(args.path):
    os.unlink(args.path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(args.path)
os.chmod(args.path, 0o777)  # the service runs as its own user, as under systemd
seen = set()
deadline = time.monotonic() + args.seconds
while time.monotonic() < deadline and "STOPPING=1" not in seen:
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        data = sock.recv(4096).decode()
    except socket.timeout:
        break
    print(data.replace("\n", "|"), flush=True)
    seen.update(data.split("\n"))
ok = "READY=1" in seen and "WATCHDOG=1" in seen
print("notify-listener: " + ("READY=1 and WATCHDOG=1 seen" if ok else "missing READY=1 or WATCHDOG=1"), flush=True)
sys.exit(0 if ok else 1)
