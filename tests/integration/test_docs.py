"""docs/ stays true: the coverage tables in docs/services/ match the operation tables of this build."""
import os
import subprocess
import sys
import unittest

ROOT = os.environ.get("STRATUS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("STRATUS_BIN", os.path.join(ROOT, "build", "bin", "stratus"))


class CoverageDocs(unittest.TestCase):
    def test_coverage_pages_are_current(self):
        result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_coverage_docs.py"),
                                 "--stratus", BIN, "--check"], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_coverage_command_lists_every_operation_of_the_model(self):
        out = subprocess.run([BIN, "coverage", "sqs"], capture_output=True, text=True, check=True).stdout
        for op in ("SendMessage", "ReceiveMessage", "StartMessageMoveTask", "ListQueueTags"):
            self.assertIn(f"| {op} |", out)

    def test_coverage_of_an_unknown_service_is_an_error(self):
        result = subprocess.run([BIN, "coverage", "nosuch"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown service", result.stderr)


if __name__ == "__main__":
    unittest.main()
