#!/usr/bin/env python3
"""make seed: the repository's fixtures (the original's seed files) through POST /imports.

Each file is a valid import body; a second run reports every entry `unchanged`."""
import argparse
import json
import pathlib
import sys
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "factories"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:9000")
    parser.add_argument("--api-key", default="local-dev-key")
    args = parser.parse_args()
    for path in sorted(FIXTURES.glob("*.json")):
        request = urllib.request.Request(
            f"{args.url}/imports",
            data=path.read_bytes(),
            method="POST",
            headers={"content-type": "application/json", "x-api-key": args.api_key},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as e:
            print(f"{path.name}: {e.code} {e.read().decode(errors='replace')}", file=sys.stderr)
            return 1
        except urllib.error.URLError as e:
            print(f"{path.name}: the API at {args.url} did not answer ({e.reason}); is `make run` up?", file=sys.stderr)
            return 1
        for kind, name in (("factories", "factory"), ("sprockets", "sprocket")):
            for entry in answer.get(kind, []):
                print(f"{path.name}: {name} {entry['key']} -> id {entry['id']}: {entry['result']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
