#!/usr/bin/env python3
"""Seed the events API with events shaped like the original's generator.

    python3 scripts/seed-events.py [--url http://127.0.0.1:9000] [--key local-dev-key]
                                   [--events 2000] [--days 30] [--seed 1]

128 clients in 11 client groups (a client's group is fixed: client % 11), categories 1..32
plus null, device types desktop/mobile/tablet/null, 80 % valid, values with 2 decimals in
0..1000, timestamps spread uniformly over the last N days (UTC): the N whole days before
today, so the same --seed on the same day makes the same events, ids included. A run again
is therefore harmless: the events already there answer 409 and are counted as such, not as
failures. Posted by 8 threads, retrying 429 and 503 (and connection errors) with a short
backoff. Prints how many were created and every failure (exit status 1 if any), then sample
report requests. Standard library only.
"""

import argparse
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

CLIENTS = 128
CLIENT_GROUPS = 11
CATEGORIES = list(range(1, 33)) + [None]
DEVICE_TYPES = ["desktop", "mobile", "tablet", None]
VALID_SHARE = 0.8
THREADS = 8
RETRIES = 6
TIMEOUT_SECONDS = 30


def generate(n, days, seed, end):
    """The n events of `seed`, their timestamps in the `days` days before `end`."""
    rng = random.Random(seed)
    span_s = days * 86_400
    start = end - timedelta(seconds=span_s)
    events = []
    for _ in range(n):
        client = rng.randrange(CLIENTS)
        # Whole seconds: the timestamp reads like the original's.
        at = start + timedelta(seconds=rng.randrange(span_s))
        event = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "device_type": rng.choice(DEVICE_TYPES),
            "category": rng.choice(CATEGORIES),
            "client": client,
            "client_group": client % CLIENT_GROUPS,
            "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valid": rng.random() < VALID_SHARE,
            # The value as a JSON number with exactly 2 decimals (no binary float on the way).
            "value": rng.randrange(100_001),
        }
        events.append(event)
    return events


def body_of(event):
    """The event's JSON, `value` written as cents / 100 (e.g. 42.17, 0.05, 1000.00)."""
    cents = event["value"]
    fields = dict(event, value="@VALUE@")
    text = json.dumps(fields, separators=(",", ":"))
    return text.replace('"@VALUE@"', f"{cents // 100}.{cents % 100:02d}").encode()


def post(url, key, event):
    """"created", "exists" (409: seeded before with this --seed) or the reason it failed."""
    data = body_of(event)
    for attempt in range(RETRIES + 1):
        req = urllib.request.Request(
            url + "/event",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "x-api-key": key},
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
                resp.read()
                if resp.status == 201:
                    return "created"
                return f"HTTP {resp.status}"
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            if e.code in (429, 503) and attempt < RETRIES:
                retry_after = e.headers.get("Retry-After")
                wait = 0.1 * 2**attempt
                if retry_after and retry_after.isdigit():
                    wait = max(wait, min(float(retry_after), 5.0))
                time.sleep(wait + random.random() * 0.05)
                continue
            if e.code == 409:
                # Already there: this --seed was seeded before today.
                return "exists"
            return f"HTTP {e.code}: {text[:300]}"
        except (urllib.error.URLError, OSError) as e:
            if attempt < RETRIES:
                time.sleep(0.1 * 2**attempt)
                continue
            return f"{type(e).__name__}: {e}"
    return "retries exhausted"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:9000", help="the API's base URL")
    p.add_argument("--key", default="local-dev-key", help="the API key (x-api-key)")
    p.add_argument("--events", type=int, default=2000, help="how many events")
    p.add_argument("--days", type=int, default=30, help="spread over the last N days (UTC)")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same events)")
    args = p.parse_args()
    if args.events < 0 or args.days < 1:
        p.error("--events must be >= 0 and --days >= 1")
    url = args.url.rstrip("/")

    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    events = generate(args.events, args.days, args.seed, today)

    created = 0
    existing = 0
    failures = []
    lock = threading.Lock()
    started = time.monotonic()

    def one(event):
        nonlocal created, existing
        outcome = post(url, args.key, event)
        with lock:
            if outcome == "created":
                created += 1
            elif outcome == "exists":
                existing += 1
            else:
                failures.append((event["id"], outcome))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(one, events))
    elapsed = time.monotonic() - started

    rate = created / elapsed if elapsed > 0 else 0.0
    print(f"created {created} of {len(events)} events in {elapsed:.1f} s ({rate:.0f}/s), "
          f"{existing} already there (409), {len(failures)} failed")
    for event_id, why in failures[:20]:
        print(f"  failed {event_id}: {why}", file=sys.stderr)
    if len(failures) > 20:
        print(f"  ... and {len(failures) - 20} more", file=sys.stderr)

    first_day = (today - timedelta(days=args.days)).date()
    print("\nThe report (aggregated within a few seconds):")
    print(f"  curl -s -H 'x-api-key: {args.key}' "
          f"'{url}/report?group_by=date%20device_type&valid=true"
          f"&start_date={first_day.isoformat()}&end_date={today.date().isoformat()}&limit=20'")
    print(f"  curl -s -H 'x-api-key: {args.key}' '{url}/report?group_by=client&order_by=-count&limit=10'")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
