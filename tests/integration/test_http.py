"""The HTTP front, over raw sockets: keep-alive, pipelining, 100-continue, chunked bodies,
HEAD, HTTP/1.0, malformed and oversized requests, header and idle timeouts."""
import json
import time
import unittest

from harness import ConnectionClosed, Daemon, ddb_request, http_request, parse_with_botocore

HEALTH = b"GET /_stratus/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class HttpFrontBase(unittest.TestCase):
    daemon_args: tuple = ()

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(*cls.daemon_args).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def tearDown(self):
        # After every (possibly bad) input the daemon must still be up and answering.
        self.assertIsNone(self.d.proc.poll(), f"daemon died; stderr:\n{self.d.stderr()[-3000:]}")
        self.assertEqual(self.d.health()["status"], "running")

    def assert_ddb_code(self, r, status, code):
        self.assertEqual(r.status, status, r.body[:300])
        self.assertEqual(parse_with_botocore(r, "dynamodb", "ListTables")["Error"]["Code"], code)


class HttpFrontTest(HttpFrontBase):
    def test_keepalive_many_requests_one_connection(self):
        with self.d.raw() as c:
            for i in range(50):
                c.send(HEALTH)
                r = c.read_response()
                self.assertEqual(r.status, 200, f"request {i}")
                self.assertEqual(json.loads(r.body)["status"], "running")
                if i % 10 == 5:
                    # an AWS error must not end the connection either
                    c.send(ddb_request("ListTables"))
                    self.assert_ddb_code(c.read_response(), 501, "NotImplemented")
            self.assertTrue(c.is_open_now())

    def test_pipelining_three_requests_in_one_write(self):
        with self.d.raw() as c:
            c.send(HEALTH + ddb_request("ListTables")
                   + b"GET /_stratus/nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            r1, r2, r3 = (c.read_response() for _ in range(3))
            self.assertEqual(r1.status, 200)
            self.assertEqual(json.loads(r1.body)["status"], "running")
            self.assert_ddb_code(r2, 501, "NotImplemented")
            self.assertEqual(r3.status, 404)
            # and the connection is still usable
            c.send(HEALTH)
            self.assertEqual(c.read_response().status, 200)

    def test_expect_100_continue(self):
        body = b'{"Limit": 3}'
        req = ddb_request("ListTables", body, extra_headers={"Expect": "100-continue"})
        head = req[: len(req) - len(body)]
        with self.d.raw() as c:
            c.send(head)
            version, status, _, _ = c.read_head(timeout=3)
            self.assertEqual((version, status), ("HTTP/1.1", 100),
                             "expected 'HTTP/1.1 100 Continue' before the body is sent")
            c.send(body)
            self.assert_ddb_code(c.read_response(), 501, "NotImplemented")

    def test_chunked_request_body(self):
        chunked = b"1\r\n{\r\n5\r\n\"Limi\r\n6\r\nt\": 3}\r\n0\r\n\r\n"
        req = ddb_request("ListTables", chunked, extra_headers={"Transfer-Encoding": "chunked"})
        with self.d.raw() as c:
            c.send(req)
            self.assert_ddb_code(c.read_response(), 501, "NotImplemented")
            # the connection survives a chunked request: the framing was consumed exactly
            c.send(HEALTH)
            self.assertEqual(c.read_response().status, 200)

    def test_chunked_body_reaches_the_protocol_layer(self):
        # bad JSON sent in chunks is seen as bad JSON: the chunks really are the body
        bad = b"3\r\n{no\r\n0\r\n\r\n"
        req_bad = ddb_request("ListTables", bad, extra_headers={"Transfer-Encoding": "chunked"})
        with self.d.raw() as c:
            c.send(req_bad)
            self.assert_ddb_code(c.read_response(), 400, "SerializationException")

    def test_head_health_has_length_and_no_body(self):
        get_len = len(self.d.request("GET", "/_stratus/health").body)
        with self.d.raw() as c:
            c.send(b"HEAD /_stratus/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            r = c.read_response(head_request=True)
            self.assertEqual(r.status, 200)
            self.assertIsNotNone(r.header("Content-Length"), "HEAD response lacks Content-Length")
            self.assertGreater(int(r.header("Content-Length")), 0)
            # the health JSON varies a little (uptime), so the length may differ by a few bytes
            self.assertLess(abs(int(r.header("Content-Length")) - get_len), 16)
            # no body: the next bytes on the connection are the next response's status line
            c.send(HEALTH)
            r2 = c.read_response()
            self.assertEqual(r2.status, 200)
            self.assertEqual(json.loads(r2.body)["status"], "running")

    def test_http10_answered_and_closed(self):
        with self.d.raw() as c:
            c.send(b"GET /_stratus/health HTTP/1.0\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.body)["status"], "running")
            self.assertIsNotNone(c.wait_closed(2.0), "HTTP/1.0 connection not closed")

    def test_http10_keepalive_when_asked(self):
        with self.d.raw() as c:
            for _ in range(3):
                c.send(b"GET /_stratus/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertIsNotNone(r.header("Content-Length"))
                self.assertEqual(json.loads(r.body)["status"], "running")
            self.assertTrue(c.is_open_now())

    def test_connection_close_honoured(self):
        with self.d.raw() as c:
            c.send(b"GET /_stratus/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
            self.assertIsNotNone(c.wait_closed(2.0))

    def test_malformed_request_line_400_and_closed(self):
        for raw in (b"THIS IS NOT HTTP\r\n\r\n", b"GET\r\n\r\n", b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
                    b"GET /_stratus/health HTTP/1.1 extra\r\nHost: x\r\n\r\n"):
            with self.subTest(raw=raw):
                with self.d.raw() as c:
                    c.send(raw)
                    try:
                        r = c.read_response(timeout=3)
                    except ConnectionClosed:
                        self.fail("connection closed without a 400 response")
                    self.assertEqual(r.status, 400)
                    self.assertIsNotNone(c.wait_closed(2.0), "connection not closed after 400")

    def test_oversized_body_413_and_closed(self):
        req = ddb_request("ListTables", b"", extra_headers={"Content-Length": str(100 * 1024 * 1024)})
        with self.d.raw() as c:
            # headers only: body bytes the server never reads would turn its close into a RST
            # that can destroy the 413 before we read it
            c.send(req)
            try:
                r = c.read_response(timeout=5)
            except ConnectionClosed:
                self.fail("connection closed without a 413 response")
            self.assertEqual(r.status, 413, r.body[:300])
            self.assertIsNotNone(c.wait_closed(2.0), "connection not closed after 413")

    def test_oversized_body_with_expect_gets_413_not_continue(self):
        req = ddb_request("ListTables", b"", extra_headers={"Content-Length": str(100 * 1024 * 1024),
                                                           "Expect": "100-continue"})
        with self.d.raw() as c:
            c.send(req)
            try:
                r = c.read_response(timeout=5)  # a stray 100 would be skipped here
            except ConnectionClosed:
                self.fail("connection closed without a 413 response")
            self.assertEqual(r.status, 413)

    def test_oversized_body_on_internal_path_413_and_closed(self):
        req = http_request("POST", "/_stratus/health", {"Content-Length": str(100 * 1024 * 1024)})
        with self.d.raw() as c:
            c.send(req)
            try:
                r = c.read_response(timeout=5)
            except ConnectionClosed:
                self.fail("connection closed without a 413 response")
            self.assertEqual(r.status, 413, r.body[:300])
            self.assertIsNotNone(c.wait_closed(2.0), "connection not closed after 413")

    def test_body_under_limit_accepted(self):
        body = json.dumps({"Limit": 3, "pad": "y" * (1 << 20)})
        with self.d.raw(timeout=15) as c:
            c.send(ddb_request("ListTables", body))
            self.assert_ddb_code(c.read_response(timeout=15), 501, "NotImplemented")

    def test_many_connections(self):
        conns = [self.d.raw() for _ in range(64)]
        try:
            for c in conns:
                c.send(HEALTH)
            for c in conns:
                self.assertEqual(c.read_response().status, 200)
        finally:
            for c in conns:
                c.close()


class TimeoutTest(HttpFrontBase):
    daemon_args = ("--header-timeout-ms", "300", "--idle-timeout-ms", "800")

    def test_partial_header_then_silence_is_disconnected(self):
        with self.d.raw() as c:
            t0 = time.monotonic()
            c.send(b"GET /_stratus/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            waited = c.wait_closed(5.0)
            self.assertIsNotNone(waited, "server kept a half-sent request open for 5 s "
                                         "(--header-timeout-ms 300)")
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, 0.2, "closed before the header timeout could expire")
            self.assertLess(took, 3.0)
            if c.buf:
                self.assertTrue(c.buf.startswith(b"HTTP/1.1 408") or c.buf.startswith(b"HTTP/1.1 400"),
                                c.buf[:200])

    def test_silent_new_connection_is_disconnected(self):
        with self.d.raw() as c:
            waited = c.wait_closed(5.0)
            self.assertIsNotNone(waited, "server kept a silent new connection open for 5 s")

    def test_idle_keepalive_connection_closed(self):
        with self.d.raw() as c:
            c.send(HEALTH)
            self.assertEqual(c.read_response().status, 200)
            time.sleep(0.2)
            # still usable well before the idle timeout
            c.send(HEALTH)
            self.assertEqual(c.read_response().status, 200)
            t0 = time.monotonic()
            waited = c.wait_closed(6.0)
            self.assertIsNotNone(waited, "idle keep-alive connection not closed within 6 s "
                                         "(--idle-timeout-ms 800)")
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, 0.5, "closed well before the idle timeout")

    def test_active_connection_outlives_idle_timeout(self):
        # requests every 300 ms for ~1.8 s: longer than the idle timeout, never idle that long
        with self.d.raw() as c:
            for _ in range(6):
                c.send(HEALTH)
                self.assertEqual(c.read_response().status, 200)
                time.sleep(0.3)
            c.send(HEALTH)
            self.assertEqual(c.read_response().status, 200)


if __name__ == "__main__":
    unittest.main()
