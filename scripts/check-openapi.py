#!/usr/bin/env python3
"""Checks the live admin API against docs/openapi.yaml.

Starts a real `tollgate serve` on a temporary data directory, plays every documented operation (happy paths and
errors), validates each JSON reply against the schema the spec gives for its path, method and status, and fails
when a reply is undocumented, does not match, or when an operation of the spec was never exercised.

Usage: scripts/check-openapi.py PATH/TO/tollgate
"""
import json, os, re, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request, urllib.error

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = yaml.safe_load(open(os.path.join(ROOT, "docs", "openapi.yaml")))
validate_spec(SPEC)
REGISTRY = Registry().with_resource("urn:spec", Resource.from_contents(SPEC, default_specification=DRAFT202012))
TEMPLATES = [(path, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")) for path in SPEC["paths"]]
exercised, problems = set(), []


def pointer(*parts):
    return "/".join(urllib.parse.quote(str(p).replace("~", "~0").replace("/", "~1"), safe="") for p in parts)


def operation(path):
    bare = path.split("?")[0]
    matches = [template for template, pattern in TEMPLATES if pattern.match(bare)]
    # Prefer literal templates (/rates/export) over parameters (/rates/{id}).
    return sorted(matches, key=lambda t: t.count("{"))[0] if matches else None


def check(method, path, status, content_type, body):
    template = operation(path)
    if template is None:
        problems.append(f"{method} {path}: no such path in the spec")
        return
    op = SPEC["paths"][template].get(method.lower())
    if op is None:
        problems.append(f"{method} {template}: method not in the spec")
        return
    exercised.add((method, template))
    responses = op["responses"]
    if str(status) not in responses:
        problems.append(f"{method} {template}: status {status} is not documented")
        return
    response = responses[str(status)]
    base = ["paths", template, method.lower(), "responses", str(status)]
    if "$ref" in response:
        base = response["$ref"][2:].split("/")
        response = SPEC["components"]["responses"][base[-1]]
    media = (content_type or "").split(";")[0]
    if "content" not in response:
        if body:
            problems.append(f"{method} {template} {status}: body not documented")
        return
    if media not in response["content"]:
        problems.append(f"{method} {template} {status}: content type {media} not documented")
        return
    if media != "application/json":
        return
    schema = {"$ref": "urn:spec#/" + pointer(*base, "content", media, "schema")}
    errors = list(Draft202012Validator(schema, registry=REGISTRY).iter_errors(json.loads(body)))
    for error in errors[:3]:
        problems.append(f"{method} {template} {status}: {error.message} at {list(error.absolute_path)}")


class API:
    def __init__(self, port):
        self.port, self.token = port, None

    def call(self, method, path, body=None, raw=None, content_type="application/json", headers=None, token=True):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        if token and self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                status, kind, payload = reply.status, reply.headers.get("Content-Type"), reply.read()
        except urllib.error.HTTPError as error:
            status, kind, payload = error.code, error.headers.get("Content-Type"), error.read()
        check(method, path, status, kind, payload)
        is_json = (kind or "").startswith("application/json") and payload
        return status, (json.loads(payload) if is_json else payload)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(binary):
    data = tempfile.mkdtemp(prefix="tollgate-openapi-")
    http, pbx = free_port(), free_port()
    env = dict(os.environ, TOLLGATE_PBX_SECRET="s3cret", TOLLGATE_ADMIN_PASSWORD="admin-password-1", TOLLGATE_BCRYPT_COST="4")
    server = subprocess.Popen([binary, "serve", "--data-dir", data, "--http-listen", f"127.0.0.1:{http}",
                               "--pbx-listen", f"127.0.0.1:{pbx}"], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(data, "serve.log"), "w"))
    try:
        api = API(http)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        play(api)
    finally:
        server.terminate()
        server.wait(timeout=30)
    missing = sorted(f"{m.upper()} {p}" for p, ops in SPEC["paths"].items() for m in ops
                     if m in ("get", "post", "put", "patch", "delete") and (m.upper(), p) not in exercised)
    for item in missing:
        problems.append(f"{item}: never exercised")
    for problem in problems:
        print("openapi:", problem)
    print(f"openapi: {len(exercised)} operations exercised, {len(problems)} problem(s)")
    return 1 if problems else 0


def play(api):
    api.call("GET", "/healthz"); api.call("GET", "/readyz"); api.call("GET", "/metrics")
    api.call("POST", "/api/v1/auth/login", {"user": "admin", "password": "wrong-password"})
    _, login = api.call("POST", "/api/v1/auth/login", {"user": "admin", "password": "admin-password-1"})
    api.token = login["token"]
    api.call("GET", "/api/v1/auth/me")
    api.call("GET", "/api/v1/admin/billing")
    api.call("PUT", "/api/v1/admin/billing", {"enabled": True})
    api.call("GET", "/api/v1/admin/license/source")
    api.call("POST", "/api/v1/admin/license", raw=b'{"format":"x"}')
    _, user = api.call("POST", "/api/v1/admin/users")
    api.call("POST", "/api/v1/admin/users", {"name": "bad name"})
    _, spare = api.call("POST", "/api/v1/admin/users", {"name": "bill-spare"})
    api.call("POST", "/api/v1/admin/users", {"name": "bill-spare"})
    api.call("GET", "/api/v1/admin/users")
    api.call("POST", "/api/v1/admin/users/bill-spare/password")
    api.call("DELETE", "/api/v1/admin/users/bill-spare")
    api.call("DELETE", "/api/v1/admin/users/bill-none")
    api.call("GET", "/api/v1/extensions")  # 403: the administrator does not do billing work
    admin = api.token
    _, login = api.call("POST", "/api/v1/auth/login", {"user": user["name"], "password": user["password"]})
    api.token = login["token"]
    api.call("POST", "/api/v1/extensions", {"number": "8001", "userName": "Room 1"})
    api.call("POST", "/api/v1/extensions", {"number": "8002"})
    api.call("POST", "/api/v1/extensions", {"number": "80x"})
    api.call("GET", "/api/v1/extensions?status=unlocked&limit=10")
    api.call("GET", "/api/v1/extensions?status=weird")
    api.call("GET", "/api/v1/extensions/8001")
    api.call("GET", "/api/v1/extensions/9999")
    api.call("PATCH", "/api/v1/extensions/8001", {"billingEnabled": True, "credit": "1.50"})
    api.call("PATCH", "/api/v1/extensions/8001", {"credit": 1.5})
    api.call("PATCH", "/api/v1/extensions/9999", {"credit": "1"})
    api.call("POST", "/api/v1/extensions/bulk", {"numbers": ["8002", "9999"], "changes": {"billingEnabled": True}})
    api.call("POST", "/api/v1/extensions/bulk", {"numbers": [], "changes": {}})
    api.call("POST", "/api/v1/recharges", {"numbers": ["8001", "8002"], "amount": "10.00"}, headers={"Idempotency-Key": "k1"})
    api.call("POST", "/api/v1/recharges", {"numbers": ["8001"], "amount": "0"})
    api.call("GET", "/api/v1/recharges?keyword=80")
    api.call("GET", "/api/v1/recharges?format=csv")
    api.call("GET", "/api/v1/recharges?format=xlsx")
    api.call("GET", "/api/v1/recharges?format=pdf")
    _, rate = api.call("POST", "/api/v1/rates", {"prefix": "0", "rate": "0.02", "unit": 6, "extensions": ["8001"]})
    api.call("POST", "/api/v1/rates", {"prefix": "x", "rate": "0.02", "unit": 6})
    api.call("GET", "/api/v1/rates")
    rid = rate["id"]
    api.call("GET", f"/api/v1/rates/{rid}")
    api.call("GET", "/api/v1/rates/999")
    api.call("PUT", f"/api/v1/rates/{rid}", {"prefix": "0", "rate": "0.03", "unit": 6, "extensions": ["8001"]})
    api.call("PUT", f"/api/v1/rates/{rid}", {"prefix": "0", "rate": "-1", "unit": 6})
    api.call("PUT", "/api/v1/rates/999", {"prefix": "0", "rate": "1", "unit": 6})
    api.call("POST", f"/api/v1/rates/{rid}/deactivate"); api.call("POST", f"/api/v1/rates/{rid}/activate")
    api.call("POST", "/api/v1/rates/999/activate"); api.call("POST", "/api/v1/rates/999/deactivate")
    api.call("PUT", f"/api/v1/rates/{rid}/extensions", {"extensions": ["8001", "8002"]})
    api.call("PUT", "/api/v1/rates/999/extensions", {"extensions": []})
    api.call("GET", "/api/v1/rates/quote?extension=8001&number=0123&duration=61")
    api.call("GET", "/api/v1/rates/quote?extension=8001")
    _, csv = api.call("GET", "/api/v1/rates/export")
    api.call("POST", "/api/v1/rates/import?mode=merge", raw=csv, content_type="text/csv")
    api.call("POST", "/api/v1/rates/import", raw=csv + b",maybe,,1,0,0,0,1,1,,,\r\n", content_type="text/csv")
    api.call("GET", "/api/v1/calls?limit=5")
    api.call("GET", "/api/v1/calls?from=2026-01-01&to=2025-01-01")
    api.call("GET", "/api/v1/calls/export?format=csv")
    api.call("GET", "/api/v1/calls/export?format=xlsx")
    api.call("GET", "/api/v1/calls/export?format=doc")
    api.call("GET", "/api/v1/stats?period=month")
    api.call("GET", "/api/v1/stats?period=week")
    api.call("GET", "/api/v1/settings")
    api.call("PUT", "/api/v1/settings", {"currency": "EUR", "timeZone": "Europe/Paris"})
    api.call("PUT", "/api/v1/settings", {"timeZone": "Mars/Base"})
    api.call("GET", "/api/v1/live-calls")
    api.call("POST", "/api/v1/live-calls/none/hangup", {"reason": "operator"})
    api.call("DELETE", f"/api/v1/rates/{rid}")
    api.call("DELETE", f"/api/v1/rates/{rid}")
    api.call("POST", "/api/v1/auth/password", {"currentPassword": "wrong-one-here", "newPassword": "another-password"})
    api.call("POST", "/api/v1/auth/password", {"currentPassword": user["password"], "newPassword": "short"})
    api.call("POST", "/api/v1/auth/password", {"currentPassword": user["password"], "newPassword": "another-password"})
    api.call("GET", "/api/v1/auth/me")
    api.token = admin
    api.call("POST", "/api/v1/auth/logout")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
