#!/usr/bin/env python3
"""Sets up a load run through the admin API, after the load generator synced the extensions:
billing on, a billing user (its token written for the load generator's recharges), one rate per 100,000
extensions (prefix 0), billing enabled with the given credit, the locked pool locked, and every billed
extension but the moneyless pool recharged with the balance."""
import argparse

from api import API, decimal

parser = argparse.ArgumentParser()
parser.add_argument("--http", type=int, required=True)
parser.add_argument("--admin-password", required=True)
parser.add_argument("--extensions", type=int, required=True)
parser.add_argument("--locked", type=int, default=0)
parser.add_argument("--broke", type=int, default=0)
parser.add_argument("--ext-base", type=int, default=10_000_000)
parser.add_argument("--balance-micros", type=int, required=True)
parser.add_argument("--credit-micros", type=int, default=0)
parser.add_argument("--rate-micros", type=int, required=True)
parser.add_argument("--unit-s", type=int, default=1)
parser.add_argument("--warning-lead-s", type=int, default=0)
parser.add_argument("--token-out", required=True)
parser.add_argument("--login-out", help="also write the billing user's name and password (login.py reads it)")
args = parser.parse_args()

api = API(args.http)
api.token = api.call("POST", "/api/v1/auth/login", {"user": "admin", "password": args.admin_password})["token"]
api.call("PUT", "/api/v1/admin/billing", {"enabled": True})
user = api.call("POST", "/api/v1/admin/users")
api.token = api.call("POST", "/api/v1/auth/login", {"user": user["name"], "password": user["password"]})["token"]
with open(args.token_out, "w") as f:
    f.write(api.token + "\n")
if args.login_out:
    with open(args.login_out, "w") as f:
        f.write(user["name"] + "\n" + user["password"] + "\n")

if args.warning_lead_s:
    settings = api.call("GET", "/api/v1/settings")
    settings["warningLeadSeconds"] = args.warning_lead_s
    api.call("PUT", "/api/v1/settings", settings)

numbers = [str(args.ext_base + i) for i in range(args.extensions + args.locked + args.broke)]
billed, locked = numbers[: args.extensions], numbers[args.extensions: args.extensions + args.locked]
moneyless = numbers[args.extensions + args.locked:]
rated = billed + moneyless
for start in range(0, len(rated), 100_000):
    api.call("POST", "/api/v1/rates", {"prefix": "0", "rate": decimal(args.rate_micros), "unit": args.unit_s,
                                       "extensions": rated[start:start + 100_000], "remarks": "loadgen"})


def bulk(path, chunk_numbers, body):
    reply = api.call("POST", path, dict(body, numbers=chunk_numbers))
    items = reply.get("results", reply.get("items", [])) if isinstance(reply, dict) else reply
    failed = [item for item in items if not item.get("ok", True)]
    if failed:
        raise SystemExit(f"{path}: {len(failed)} failed, first: {failed[0]}")


for start in range(0, len(numbers), 10_000):
    bulk("/api/v1/extensions/bulk", numbers[start:start + 10_000],
         {"changes": {"billingEnabled": True, "credit": decimal(args.credit_micros)}})
for start in range(0, len(locked), 10_000):
    bulk("/api/v1/extensions/bulk", locked[start:start + 10_000], {"changes": {"status": "locked"}})
if args.balance_micros > 0:
    for start in range(0, len(billed), 10_000):
        bulk("/api/v1/recharges", billed[start:start + 10_000],
             {"amount": decimal(args.balance_micros), "note": "loadgen setup"})
print(f"setup: {len(billed)} billed, {len(locked)} locked, {len(moneyless)} without money; "
      f"rate {decimal(args.rate_micros)} per {args.unit_s} s")
