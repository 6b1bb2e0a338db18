"""The demo stack (config/demo.yaml) end to end: POST /orders on its HTTP API → order-api (checks the order,
SendMessage through <stratus/aws_client.hpp>) → the `orders` queue → order-worker through the event source
mapping. The daemon runs config/demo.yaml itself, with CodeUri pointed at this build's example functions
($STRATUS_FUNCTIONS_DIR) instead of the Release build's build/functions/; requests go through real HTTP
clients (urllib on the path form, http.client with the API's Host)."""
import http.client
import json
import os
import re
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from apigw_common import FUNCTIONS_DIR
from harness import SOURCE_DIR, Daemon

DEMO = SOURCE_DIR / "config" / "demo.yaml"
API_LINE = re.compile(r"^stratus api stratus-ServerlessHttpApi \(HTTP API (?P<id>\w+)\) stage \$default: "
                      r"(?P<url>http://\S+)$")
TEA = {"sku": "tea", "qty": 2, "price": 3.5}


class DemoOrdersTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(os.path.join(FUNCTIONS_DIR, "order_api.so")):
            raise AssertionError(f"example functions not built in {FUNCTIONS_DIR}")
        text = DEMO.read_text()
        self.assertIn("build/functions/order_api.so", text)
        text = text.replace("build/functions/", FUNCTIONS_DIR.rstrip("/") + "/")
        self.tmp = tempfile.TemporaryDirectory(prefix="stratus-demo-")
        stack = os.path.join(self.tmp.name, "demo.yaml")
        with open(stack, "w") as f:
            f.write(text)
        self.d = Daemon("--config", stack).start()
        self.api_id, self.api_url = self.printed_api()

    def tearDown(self):
        if not self.d.running():   # it died under the test: show why
            print(f"\nstratus exited with {self.d.proc.returncode}; stderr:\n{self.d.stderr()[-6000:]}",
                  file=sys.stderr)
        self.d.cleanup()
        self.tmp.cleanup()

    def printed_api(self):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for line in self.d.stdout_lines:
                if m := API_LINE.match(line):
                    return m.group("id"), m.group("url")
            time.sleep(0.05)
        self.fail(f"no API line printed: {self.d.stdout_lines}")

    # -- clients ------------------------------------------------------------------------------------
    def post_by_path(self, body: bytes, content_type="application/json"):
        """urllib, on the path form /_aws/execute-api/{apiId}/orders."""
        req = urllib.request.Request(f"{self.d.url}/_aws/execute-api/{self.api_id}/orders", data=body,
                                     method="POST", headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def post_by_host(self, body: bytes, content_type="application/json"):
        """http.client to 127.0.0.1 with the Host of the printed URL ({apiId}.execute-api.localhost:PORT)."""
        host = self.api_url.removeprefix("http://").rstrip("/")
        conn = http.client.HTTPConnection(self.d.host, self.d.port, timeout=15)
        try:
            conn.request("POST", "/orders", body=body, headers={"Host": host, "Content-Type": content_type})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def orders_queue(self) -> dict:
        stats = json.loads(self.d.request("GET", "/_stratus/queues").body)
        return next(q for q in stats["queues"] if q["name"] == "orders")

    def worker_log(self) -> str:
        return self.d.request("GET", "/_stratus/logs/order-worker").body.decode()

    def wait_for(self, predicate, what: str, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail(f"{what} within {timeout} s; orders queue {self.orders_queue()}; worker log:\n{self.worker_log()}")

    # -- tests --------------------------------------------------------------------------------------
    def test_the_api_url_is_printed_and_is_the_stacks_api(self):
        self.assertEqual(self.api_url, f"http://{self.api_id}.execute-api.localhost:{self.d.port}/")
        routes = self.d.client("apigatewayv2").get_routes(ApiId=self.api_id)["Items"]
        self.assertEqual([r["RouteKey"] for r in routes], ["POST /orders"])

    def test_valid_orders_are_created_enqueued_and_processed_by_order_worker(self):
        status, headers, body = self.post_by_path(json.dumps({"items": [TEA]}).encode())
        self.assertEqual(status, 201, body)
        self.assertTrue(headers["Content-Type"].startswith("application/json"), headers)
        generated = json.loads(body)["orderId"]
        self.assertRegex(generated, r"^o-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

        # The client's own id is kept; by the host form this time.
        status, _, body = self.post_by_host(json.dumps({"orderId": "o-demo-1", "items": [TEA, TEA]}).encode())
        self.assertEqual((status, json.loads(body)), (201, {"orderId": "o-demo-1"}))

        # What `curl -d` sends (form Content-Type): API Gateway base64-encodes it, order-api decodes it.
        status, _, body = self.post_by_path(json.dumps({"orderId": "o-form", "items": [TEA]}).encode(),
                                            content_type="application/x-www-form-urlencoded")
        self.assertEqual((status, json.loads(body)), (201, {"orderId": "o-form"}))

        # order-worker gets each from the queue; the messages leave `orders`.
        for line in (f"order {generated}: 1 item(s), total 7.000000",
                     "order o-demo-1: 2 item(s), total 14.000000",
                     "order o-form: 1 item(s), total 7.000000"):
            self.wait_for(lambda: line in self.worker_log(), f"order-worker logs {line!r}")
        self.wait_for(lambda: self.orders_queue()["deleted"] == 3, "3 messages deleted from orders")
        q = self.orders_queue()
        self.assertEqual((q["sent"], q["visible"], q["in_flight"], q["delayed"]), (3, 0, 0, 0), q)
        self.assertNotIn("poison", self.worker_log())
        api_log = self.d.request("GET", "/_stratus/logs/order-api").body.decode()
        self.assertEqual(len(re.findall(r"order \S+ enqueued as message [0-9a-f-]{36}", api_log)), 3, api_log)

    def test_invalid_orders_answer_400_with_the_reason_and_enqueue_nothing(self):
        cases = [
            (b"not json", "the body is not JSON"),
            (b"", "the body must be an order (JSON), it is empty"),
            (b"[1, 2]", "the order must be a JSON object"),
            (b"{}", "items are missing"),
            (json.dumps({"items": []}).encode(), "items must be a non-empty list"),
            (json.dumps({"items": [dict(TEA, qty=0)]}).encode(), "items[0].qty must be a whole number of at least 1"),
            (json.dumps({"items": [TEA, dict(TEA, qty=1.5)]}).encode(),
             "items[1].qty must be a whole number of at least 1"),
            (json.dumps({"items": [{"qty": 1, "price": 1}]}).encode(), "items[0].sku must be a non-empty string"),
            (json.dumps({"items": [dict(TEA, price=-1)]}).encode(), "items[0].price must be a number of at least 0"),
            (json.dumps({"items": [dict(TEA, price="3")]}).encode(), "items[0].price must be a number of at least 0"),
            (json.dumps({"orderId": "", "items": [TEA]}).encode(),
             "orderId must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'"),
            (json.dumps({"orderId": 7, "items": [TEA]}).encode(),
             "orderId must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'"),
            (json.dumps({"items": [TEA] * 101}).encode(), "at most 100 items per order"),
        ]
        for body, reason in cases:
            with self.subTest(body=body[:40]):
                status, headers, answer = self.post_by_path(body)
                self.assertEqual(status, 400, answer)
                self.assertTrue(headers["Content-Type"].startswith("application/json"), headers)
                self.assertEqual(json.loads(answer), {"message": reason})
        # A valid order after them is the only message the queue ever got.
        status, _, body = self.post_by_path(json.dumps({"orderId": "o-after", "items": [TEA]}).encode())
        self.assertEqual(status, 201, body)
        self.wait_for(lambda: "order o-after:" in self.worker_log(), "order-worker processes o-after")
        q = self.orders_queue()
        self.assertEqual(q["sent"], 1, q)
        self.assertEqual(self.worker_log().count("order "), 1, self.worker_log())

    def test_other_methods_and_paths_are_not_routed(self):
        conn = http.client.HTTPConnection(self.d.host, self.d.port, timeout=10)
        try:
            conn.request("GET", f"/_aws/execute-api/{self.api_id}/orders")
            r = conn.getresponse()
            self.assertEqual((r.status, json.loads(r.read())), (404, {"message": "Not Found"}))
        finally:
            conn.close()
        self.assertEqual(self.orders_queue()["sent"], 0)


if __name__ == "__main__":
    unittest.main()
