"""A small client of Tollgate's admin API (standard library only), shared by setup.py and report.py."""
import json
import urllib.error
import urllib.request


class API:
    def __init__(self, port, token=None):
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def call(self, method, path, body=None, expect=(200, 201, 202, 204)):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=600) as reply:
                status, text = reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if status not in expect:
            raise SystemExit(f"{method} {path}: HTTP {status}: {text[:300]}")
        return json.loads(text) if text and text.lstrip()[:1] in "{[" else text

    def text(self, path):
        with urllib.request.urlopen(self.base + path, timeout=60) as reply:
            return reply.read().decode()


def micros(decimal_text):
    """'12.345678' or '-0.02' → integer micro-units, exactly (money never goes through a float)."""
    negative = decimal_text.startswith("-")
    whole, _, fraction = decimal_text.lstrip("-").partition(".")
    value = int(whole or "0") * 1_000_000 + int((fraction + "000000")[:6])
    return -value if negative else value


def decimal(micro_units):
    sign = "-" if micro_units < 0 else ""
    whole, fraction = divmod(abs(micro_units), 1_000_000)
    return f"{sign}{whole}.{fraction:06d}".rstrip("0").rstrip(".") if fraction else f"{sign}{whole}"
