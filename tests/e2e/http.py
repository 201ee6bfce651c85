"""A small JSON-over-HTTP client (standard library only) for the end-to-end tests."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    body: object
    headers: dict
    text: str

    def json(self):
        return self.body


class Client:
    def __init__(self, base_url, token=None, timeout=15):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def with_token(self, token):
        return Client(self.base_url, token, self.timeout)

    def request(self, method, path, json_body=None, headers=None):
        data = None
        all_headers = {"Accept": "application/json"}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        request = urllib.request.Request(self.base_url + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as raw:  # noqa: S310 - test target URL
                status, text, response_headers = raw.status, raw.read().decode(), dict(raw.headers)
        except urllib.error.HTTPError as error:
            status, text, response_headers = error.code, error.read().decode(), dict(error.headers)
        try:
            body = json.loads(text) if text else None
        except json.JSONDecodeError:
            body = None
        return Response(status, body, response_headers, text)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body, **kw)

    def put(self, path, json_body=None, **kw):
        return self.request("PUT", path, json_body, **kw)

    def delete(self, path, json_body=None, **kw):
        return self.request("DELETE", path, json_body, **kw)


def wait_for(predicate, timeout=30.0, interval=0.5, what="condition"):
    """Poll ``predicate()`` until it returns a truthy value (events travel asynchronously in a cluster)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout:.0f} s (last: {last!r})")
