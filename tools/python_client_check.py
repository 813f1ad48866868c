"""The Python gate of `cargo xtask lint`: a client generated from each layer's published document
with openapi-python-client imports, and one real call through it reaches a loopback server and
decodes the example answer the document gives.

usage: python tools/python_client_check.py OUT_DIR LAYER=SPEC[:OPERATION_ID] ...

For each layer the client is generated (warnings are failures) into OUT_DIR/laserdata_<layer>,
imported, and OPERATION_ID is called against an http.server on 127.0.0.1 that answers with the
operation's documented 200 example. The call must send the API key in `ld-api-key`, reach the
path of the operation with every path parameter filled in (and the query parameters given), and
decode the answer back to the example, value for value.
"""

import datetime
import importlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = pathlib.Path(__file__).resolve().parent
CONFIG = HERE / "openapi-python-client.yaml"
API_KEY = "ld-test-key-0001"


def generate(spec: pathlib.Path, out: pathlib.Path, package: str) -> None:
    target = out / package
    shutil.rmtree(target, ignore_errors=True)
    bin_dir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    subprocess.run(
        [
            bin_dir / "openapi-python-client",
            "generate",
            "--path", str(spec),
            "--meta", "none",
            "--output-path", str(target),
            "--config", str(CONFIG),
            "--fail-on-warning",
        ],
        check=True,
        env=env,
    )


def find_operation(doc: dict, operation_id: str):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return path, method, item.get("parameters", []) + operation.get("parameters", []), operation
    raise SystemExit(f"no operation `{operation_id}`")


def deref(doc: dict, node: dict) -> dict:
    for _ in range(32):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not ref:
            return node
        target = doc
        for token in ref.lstrip("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def normalize(value):
    """Values as JSON reads them, with date-times compared as instants (`Z` and `+00:00` agree)."""
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)", value):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def to_json(parsed):
    if isinstance(parsed, list):
        return [to_json(item) for item in parsed]
    return parsed.to_dict() if hasattr(parsed, "to_dict") else parsed


def check_layer(out: pathlib.Path, layer: str, spec: pathlib.Path, operation_id: str) -> None:
    doc = json.loads(spec.read_text())
    package = f"laserdata_{layer}"
    generate(spec, out, package)

    path, method, parameters, operation = find_operation(doc, operation_id)
    answer = deref(doc, operation["responses"]["200"])
    example = answer["content"]["application/json"]["example"]

    arguments, expected_path, expected_query = {}, path, {}
    for parameter in (deref(doc, p) for p in parameters):
        name, place = parameter["name"], parameter["in"]
        schema = deref(doc, parameter.get("schema", {}))
        if place == "path":
            value = parameter.get("example", schema.get("example", 1))
            arguments[name] = value
            expected_path = expected_path.replace("{" + name + "}", str(value))
        elif place == "query" and name in ("page", "results"):
            value = {"page": 2, "results": 3}[name]
            arguments[name] = value
            expected_query[name] = [str(value)]

    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            seen.update(method="get", path=url.path, query=parse_qs(url.query), key=self.headers.get("ld-api-key"))
            body = json.dumps(example).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("ld-request", "req-0001")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sys.path.insert(0, str(out))
        client_module = importlib.import_module(f"{package}.client")
        client = client_module.AuthenticatedClient(
            base_url=f"http://127.0.0.1:{server.server_address[1]}",
            token=API_KEY,
            prefix="",
            auth_header_name="ld-api-key",
            timeout=None,
            raise_on_unexpected_status=True,
        )
        tag_module = next((out / package / "api").glob(f"*/{operation_id}.py"))
        endpoint = importlib.import_module(f"{package}.api.{tag_module.parent.name}.{operation_id}")
        with client as open_client:
            response = endpoint.sync_detailed(client=open_client, **arguments)
    finally:
        server.shutdown()
        server.server_close()

    problems = []
    if method != "get":
        problems.append(f"the gate only calls GET operations, not {method}")
    if response.status_code != 200:
        problems.append(f"status {response.status_code}")
    if seen.get("path") != expected_path:
        problems.append(f"requested {seen.get('path')}, expected {expected_path}")
    if seen.get("key") != API_KEY:
        problems.append(f"ld-api-key was {seen.get('key')!r}")
    for name, value in expected_query.items():
        if seen.get("query", {}).get(name) != value:
            problems.append(f"query {name} was {seen.get('query', {}).get(name)}, expected {value}")
    if response.parsed is None:
        problems.append("the answer was not decoded")
    elif normalize(to_json(response.parsed)) != normalize(example):
        problems.append(
            "the decoded answer differs from the example:\n"
            + json.dumps(to_json(response.parsed), indent=1, default=str)[:2000]
        )
    if problems:
        raise AssertionError(f"{layer}: {operation_id}: " + "; ".join(problems))
    print(f"ok: {layer}: {package}.api.{tag_module.parent.name}.{operation_id} -> GET {seen['path']} decoded the example")


def main() -> int:
    out = pathlib.Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    passed = failed = 0
    for argument in sys.argv[2:]:
        layer, rest = argument.split("=", 1)
        spec, _, operation_id = rest.partition(":")
        try:
            check_layer(out, layer, pathlib.Path(spec).resolve(), operation_id)
            passed += 1
        except (AssertionError, subprocess.CalledProcessError, StopIteration, KeyError, ImportError) as error:
            print(f"FAILED: {layer}: {type(error).__name__}: {error}")
            failed += 1
    print(f"python client: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
