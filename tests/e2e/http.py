"""A small JSON-over-HTTP client (standard library only) for the end-to-end tests."""

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    body: object
    headers: dict
    text: str
    content: bytes = b""

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

    def post_file(self, path, field, filename, content, content_type):
        """A multipart/form-data POST with one file field."""
        boundary = f"----e2e{uuid.uuid4().hex}"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.raw("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def raw(self, method, path, data, headers):
        all_headers = {"Accept": "application/json", **headers}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as raw:  # noqa: S310 - test target URL
                status, content, response_headers = raw.status, raw.read(), dict(raw.headers)
        except urllib.error.HTTPError as error:
            status, content, response_headers = error.code, error.read(), dict(error.headers)
        try:
            body = json.loads(content) if content else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        return Response(status, body, response_headers, content.decode(errors="replace"), content)

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
