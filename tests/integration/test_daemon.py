"""The daemon as a process: ready line, health, signals, data-dir lock, stack-file errors."""
import json
import os
import re
import signal
import socket
import tempfile
import time
import unittest
from pathlib import Path

from harness import (HOST, READY_RE, ConnectionClosed, Daemon, ddb_request, parse_with_botocore,
                     run_expect_exit)

EXPECTED_SERVICES = ("lambda", "sqs", "s3", "dynamodb", "events", "apigateway", "apigatewayv2")


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp{,6}) of LISTEN sockets on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            addr, p = f[1].split(":")
            if int(p, 16) == port and f[3] == "0A":
                found.append(addr)
    return found


class ReadyAndHealthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_ready_line_format(self):
        self.assertRegex(self.d.ready_line, READY_RE)
        self.assertEqual(self.d.host, HOST)
        self.assertGreater(self.d.port, 0)
        self.assertLess(self.d.port, 65536)

    def test_binds_loopback_only_by_default(self):
        addrs = listening_addresses(self.d.port)
        self.assertTrue(addrs, f"no LISTEN socket found on port {self.d.port}")
        for a in addrs:
            self.assertIn(a, ("0100007F",), f"listening on {a} (hex), expected only 127.0.0.1")

    def test_health_json(self):
        r = self.d.request("GET", "/_stratus/health")
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn("application/json", r.header("Content-Type", ""))
        h = json.loads(r.body)
        self.assertEqual(h["status"], "running")
        self.assertIsInstance(h["version"], str)
        self.assertTrue(h["version"])
        self.assertIsInstance(h["uptime_ms"], int)
        self.assertGreaterEqual(h["uptime_ms"], 0)
        self.assertEqual(h["pid"], self.d.proc.pid)
        self.assertIs(h["persistent"], False)
        self.assertEqual(h["account"], "000000000000")
        self.assertIsInstance(h["services"], dict)
        for name in EXPECTED_SERVICES:
            with self.subTest(service=name):
                self.assertIn(name, h["services"])
                s = h["services"][name]
                self.assertIsInstance(s["state"], str)
                self.assertTrue(s["state"])
                ops = s["operations"]
                self.assertIsInstance(ops["implemented"], int)
                self.assertIsInstance(ops["total"], int)
                self.assertGreaterEqual(ops["implemented"], 0)
                self.assertGreater(ops["total"], 0)
                self.assertLessEqual(ops["implemented"], ops["total"])

    def test_uptime_advances(self):
        a = self.d.health()["uptime_ms"]
        time.sleep(0.25)
        b = self.d.health()["uptime_ms"]
        self.assertGreaterEqual(b - a, 150)

    def test_unknown_stratus_path_is_404_json(self):
        for path in ("/_stratus/nope", "/_stratus/health/extra", "/_stratus/"):
            with self.subTest(path=path):
                r = self.d.request("GET", path)
                self.assertEqual(r.status, 404, r.body[:300])
                self.assertIsInstance(json.loads(r.body), dict)


class StdoutTest(unittest.TestCase):
    def test_exactly_one_stdout_line(self):
        with Daemon("--log-level", "debug") as d:
            d.health()
            d.request("POST", "/", b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables",
                                           "Content-Type": "application/x-amz-json-1.0"})
            rc, _ = d.stop()
            self.assertEqual(rc, 0, d.stderr()[-3000:])
            self.assertEqual(d.stdout_lines, [d.ready_line],
                             "stdout must hold only the ready line (logs go to stderr)")

    def test_json_log_format(self):
        with Daemon("--log-level", "debug", "--log-format", "json") as d:
            d.health()
            d.request("GET", "/_stratus/nope")
            rc, _ = d.stop()
            self.assertEqual(rc, 0)
            lines = [l for l in d.stderr().splitlines() if l.strip()]
            self.assertTrue(lines, "no log line at all at --log-level debug")
            for line in lines:
                with self.subTest(line=line[:200]):
                    self.assertIsInstance(json.loads(line), dict)

    def test_account_id_flag(self):
        with Daemon("--account-id", "123456789012") as d:
            self.assertEqual(d.health()["account"], "123456789012")


class SignalTest(unittest.TestCase):
    def _stop_with(self, sig):
        with Daemon() as d:
            d.health()
            rc, took = d.stop(sig)
            self.assertEqual(rc, 0, f"exit code {rc}; stderr:\n{d.stderr()[-3000:]}")
            self.assertLess(took, 2.0)

    def test_sigterm_exits_0_within_2s(self):
        self._stop_with(signal.SIGTERM)

    def test_sigint_exits_0_within_2s(self):
        self._stop_with(signal.SIGINT)

    def test_idle_keepalive_connection_does_not_delay_exit(self):
        with Daemon() as d:
            c = d.raw()
            c.send(b"GET /_stratus/health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
            rc, took = d.stop()
            c.close()
            self.assertEqual(rc, 0, d.stderr()[-3000:])
            self.assertLess(took, 2.0)

    def _inflight(self, sig, check_not_accepting=False):
        """A request whose body is still arriving when the signal comes must be answered."""
        with Daemon() as d:
            req = ddb_request("ListTables", b'{"Limit": 5}')
            c = d.raw()
            c.send(req[:-6])
            time.sleep(0.3)
            self.assertTrue(c.is_open_now())
            t0 = time.monotonic()
            d.proc.send_signal(sig)
            time.sleep(0.3)
            if check_not_accepting:
                served = None
                try:
                    with socket.create_connection((d.host, d.port), timeout=1) as s:
                        s.sendall(b"GET /_stratus/health HTTP/1.1\r\nHost: x\r\n\r\n")
                        s.settimeout(1.0)
                        served = s.recv(64)
                except (ConnectionRefusedError, ConnectionResetError, socket.timeout):
                    pass
                self.assertFalse(served and served.startswith(b"HTTP/1.1 200"),
                                 f"a new connection was served after the signal: {served!r}")
            self.assertIsNone(d.proc.poll(), "daemon exited before finishing the in-flight request")
            c.send(req[-6:])
            try:
                r = c.read_response(timeout=3)
            except ConnectionClosed as e:
                self.fail(f"in-flight request dropped on shutdown: {e}")
            self.assertEqual(r.status, 501, r.body[:300])
            parsed = parse_with_botocore(r, "dynamodb", "ListTables")
            self.assertEqual(parsed["Error"]["Code"], "NotImplemented")
            c.close()
            rc, took = d.wait_exit(5, t0)
            self.assertEqual(rc, 0, d.stderr()[-3000:])
            self.assertLess(took, 2.0)

    def test_sigterm_finishes_inflight_request(self):
        self._inflight(signal.SIGTERM)

    def test_sigint_finishes_inflight_request(self):
        self._inflight(signal.SIGINT)

    def test_sigterm_stops_accepting_while_draining(self):
        self._inflight(signal.SIGTERM, check_not_accepting=True)


class DataDirTest(unittest.TestCase):
    def test_second_daemon_on_same_data_dir_refused(self):
        with tempfile.TemporaryDirectory(prefix="stratus-data-") as tmp:
            with Daemon(data_dir=tmp) as first:
                self.assertIs(first.health()["persistent"], True)
                res = run_expect_exit(["serve", "--port", "0", "--data-dir", tmp], timeout=10)
                self.assertIsNotNone(res.returncode, "second daemon did not exit within 10 s")
                self.assertNotEqual(res.returncode, 0)
                self.assertIn("in use", res.stderr.lower(), res.stderr[-2000:])
                self.assertNotIn("stratus ready", res.stdout)
                # the first one is unharmed
                self.assertEqual(first.health()["status"], "running")
                rc, took = first.stop()
                self.assertEqual(rc, 0, first.stderr()[-3000:])
                self.assertLess(took, 2.0)

    def test_data_dir_released_after_stop(self):
        with tempfile.TemporaryDirectory(prefix="stratus-data-") as tmp:
            with Daemon(data_dir=tmp) as first:
                first.health()
                self.assertEqual(first.stop()[0], 0)
            with Daemon(data_dir=tmp) as second:
                self.assertIs(second.health()["persistent"], True)
                self.assertEqual(second.stop()[0], 0)


class StackFileTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="stratus-stack-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, text):
        p = os.path.join(self.tmp.name, name)
        Path(p).write_text(text)
        return p

    def expect_invalid(self, path, want_path=None, want_words=None):
        res = run_expect_exit(["serve", "--ephemeral", "--port", "0", "--config", path], timeout=10)
        self.assertIsNotNone(res.returncode, "daemon did not exit within 10 s on an invalid stack")
        self.assertEqual(res.returncode, 2, f"stderr:\n{res.stderr[-2000:]}")
        self.assertNotIn("stratus ready", res.stdout)
        self.assertIn(os.path.basename(path), res.stderr, "stderr does not name the file")
        if want_path:
            self.assertIn(want_path, res.stderr, "stderr does not name the path inside the file")
        rest = res.stderr.replace(path, "").replace(want_path or "\0", "")
        self.assertGreaterEqual(len(re.findall(r"[A-Za-z]", rest)), 10,
                                "stderr does not say what is wrong")
        if want_words:
            self.assertRegex(res.stderr, want_words)
        return res

    def test_bad_property_type(self):
        p = self.write("bad-prop.yaml", """\
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: not-a-number
""")
        self.expect_invalid(p, "Resources.Q.Properties.VisibilityTimeout",
                            re.compile(r"(?i)\bint|number|numeric"))

    def test_unknown_resource_type(self):
        p = self.write("bad-type.yaml", """\
Resources:
  X:
    Type: AWS::Bogus::Thing
""")
        self.expect_invalid(p, "Resources.X.Type", re.compile(r"AWS::Bogus::Thing"))

    def test_missing_type(self):
        p = self.write("no-type.yaml", "Resources:\n  Q:\n    Properties: {}\n")
        self.expect_invalid(p, "Resources.Q", re.compile(r"Type"))

    def test_resources_not_a_mapping(self):
        p = self.write("list.yaml", "Resources:\n  - a\n  - b\n")
        self.expect_invalid(p, "Resources")

    def test_yaml_syntax_error(self):
        p = self.write("syntax.yaml", "Resources: {Q: [\n")
        self.expect_invalid(p)

    def test_missing_file(self):
        p = os.path.join(self.tmp.name, "does-not-exist.yaml")
        res = run_expect_exit(["serve", "--ephemeral", "--port", "0", "--config", p], timeout=10)
        self.assertIsNotNone(res.returncode)
        self.assertNotEqual(res.returncode, 0)
        self.assertNotIn("stratus ready", res.stdout)
        self.assertIn("does-not-exist.yaml", res.stderr)

    def test_empty_stack_starts(self):
        p = self.write("empty.yaml", "Resources: {}\n")
        with Daemon("--config", p) as d:
            self.assertEqual(d.health()["status"], "running")
            self.assertEqual(d.stop()[0], 0)


class CommandLineTest(unittest.TestCase):
    def test_bad_port_value_fails_without_listening(self):
        res = run_expect_exit(["serve", "--ephemeral", "--port", "notaport"], timeout=10)
        self.assertIsNotNone(res.returncode)
        self.assertNotEqual(res.returncode, 0)
        self.assertNotIn("stratus ready", res.stdout)
        self.assertTrue(res.stderr.strip())


if __name__ == "__main__":
    unittest.main()
