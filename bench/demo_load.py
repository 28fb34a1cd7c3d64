"""How long the demo partnership takes to load (``make run`` on an empty ledger does it).

    .venv/bin/python bench/demo_load.py            # SQLite file
    .venv/bin/python bench/demo_load.py --url postgresql://postgres@127.0.0.1:5432/test

Target: well under 30 s on either database (was a timed assertion in the tests).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the packages, from a checkout
    sys.path.insert(0, str(ROOT))

from _common import Stores, build_ledger  # noqa: E402

from ledger.demo import load_demo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", help="a PostgreSQL URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    stores = Stores(args.url)
    try:
        engine = stores.pg()[0] if args.url else stores.sqlite("demo")
        ledger = build_ledger(engine, projector=True)
        start = time.perf_counter()
        summary = load_demo(ledger, date(2026, 11, 23))
        seconds = time.perf_counter() - start
    finally:
        stores.close()
    print(f"demo load on {engine.dialect.name}: {summary.events_written} events in {seconds:.2f} s")


if __name__ == "__main__":
    main()
