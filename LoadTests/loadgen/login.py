#!/usr/bin/env python3
"""Logs the billing user that setup.py created in again (sessions do not outlive a server restart) and writes
the new token where the load generator and report.py read it."""
import argparse

from api import API

parser = argparse.ArgumentParser()
parser.add_argument("--http", type=int, required=True)
parser.add_argument("--login", required=True, help="the file setup.py --login-out wrote")
parser.add_argument("--token-out", required=True)
args = parser.parse_args()

name, password = open(args.login).read().split("\n")[:2]
token = API(args.http).call("POST", "/api/v1/auth/login", {"user": name, "password": password})["token"]
with open(args.token_out, "w") as f:
    f.write(token + "\n")
