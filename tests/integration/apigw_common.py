"""Shared by the API Gateway integration tests: the example proxy handler (functions/http.cpp) as a Lambda
function, and raw HTTP requests to an API by its host form or its path form."""
import http.client
import io
import json
import os
import zipfile

FUNCTIONS_DIR = os.environ.get("STRATUS_FUNCTIONS_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-dev", "functions")
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ACCOUNT = "000000000000"


def package(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(os.path.join(FUNCTIONS_DIR, f"{name}.so"), f"{name}.so")
    return buf.getvalue()


def create_function(lam, name: str, library: str = "http", **extra) -> str:
    if not os.path.exists(os.path.join(FUNCTIONS_DIR, f"{library}.so")):
        raise AssertionError(f"example functions not built in {FUNCTIONS_DIR}")
    out = lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler=f"{library}.so",
                              Code={"ZipFile": package(library)}, **extra)
    return out["FunctionArn"]


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


def call(daemon, api_id, method, path, body=None, headers=None, host_form=True, timeout=15.0) -> Reply:
    """One request to an API: Host {api_id}.execute-api.localhost:PORT (host form) or
    /_aws/execute-api/{api_id}{path} (path form)."""
    conn = http.client.HTTPConnection(daemon.host, daemon.port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if host_form:
            hdrs.setdefault("Host", f"{api_id}.execute-api.localhost:{daemon.port}")
            target = path
        else:
            target = f"/_aws/execute-api/{api_id}{path}"
        if isinstance(body, str):
            body = body.encode()
        conn.putrequest(method, target, skip_host="Host" in hdrs, skip_accept_encoding=True)
        for k, v in hdrs.items():
            if isinstance(v, list):
                for one in v:
                    conn.putheader(k, one)
            else:
                conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Reply(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def event_of(reply: Reply) -> dict:
    """The event functions/http.cpp echoes back in its default answer."""
    assert reply.status == 200, (reply.status, reply.body)
    return reply.json()["event"]
