#!/usr/bin/env python3
"""Refresh the coverage tables in docs/services/<service>.md from the operation tables.

Each page keeps its hand-written text; the part between `<!-- coverage:begin -->` and
`<!-- coverage:end -->` is replaced by `stratus coverage <service>`. A page that does not exist yet is
created with a short header. `--check` exits 1 if any page is out of date (the integration tests run it).

Usage: python3 tools/gen_coverage_docs.py [--stratus build/bin/stratus] [--check]
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BEGIN, END = "<!-- coverage:begin -->", "<!-- coverage:end -->"
TITLES = {
    "lambda": "Lambda", "sqs": "SQS", "s3": "S3", "dynamodb": "DynamoDB",
    "dynamodbstreams": "DynamoDB Streams", "events": "EventBridge",
    "apigateway": "API Gateway (REST APIs, management)", "apigatewayv2": "API Gateway v2 (HTTP APIs, management)",
}


def coverage(stratus, service):
    out = subprocess.run([stratus, "coverage", service], check=True, capture_output=True, text=True).stdout
    # Drop the "## service" heading the command prints; the page has its own title.
    return re.sub(r"^## .*\n\n", "", out).rstrip() + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stratus", default=os.path.join(ROOT, "build", "bin", "stratus"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for service, title in TITLES.items():
        path = os.path.join(ROOT, "docs", "services", f"{service}.md")
        table = coverage(args.stratus, service)
        block = f"{BEGIN}\n{table}{END}"
        if os.path.exists(path):
            with open(path) as f:
                page = f.read()
            if BEGIN not in page or END not in page:
                sys.exit(f"{path}: missing {BEGIN} / {END} markers")
            new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, page, flags=re.S)
        else:
            new = (f"# {title}\n\nNot implemented yet: every operation answers `501 NotImplemented` in the "
                   f"client's error format.\n\n## Coverage\n\n{block}\n\n## Limits that differ from AWS\n\n"
                   f"None yet (nothing is implemented).\n")
            page = None
        if new != page:
            stale.append(path)
            if not args.check:
                with open(path, "w") as f:
                    f.write(new)
    if args.check and stale:
        print("out of date (run tools/gen_coverage_docs.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
