"""Benchmark: a quarterly BCF return of a big pool, in all three formats.

A BCF pool with 100 schemes and 50,000 events in the year (contributions, spend,
credit notes, and prior-period adjustments after each filed quarter): Q1 is filed
after its postings, then Q2, then the timed Q3 return, whose content (as at the
head), JSON, zip of CSVs and workbook are measured separately and together, and then
the whole ``generate_return`` (content, three formats and the append of the filed
return). Budget: 2 s for the return in all three formats.

    .venv/bin/python bench/returns.py [--store sqlite|postgresql|both] [--events N]

Not a test and not part of the package; it prints a table (record it in
bench/RESULTS-returns.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG_URL, pg_store  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from filing.lifecycle import generate_return  # noqa: E402
from filing.render.csv_zip import render_csv_zip  # noqa: E402
from filing.render.formats import render_json  # noqa: E402
from filing.render.xlsx import render_xlsx  # noqa: E402
from ledger.clock import FixedClock  # noqa: E402
from ledger.domain import commands as c  # noqa: E402
from ledger.domain.events import HwbArea  # noqa: E402
from ledger.domain.plan import JointSplit, Plan, PlannedContribution, Scheme  # noqa: E402
from ledger.handlers import Ledger  # noqa: E402
from ledger.refdata import default_catalogue  # noqa: E402
from ledger.store.engine import make_engine  # noqa: E402
from ledger.store.migrate import upgrade  # noqa: E402
from ledger.store.reads import read_head  # noqa: E402
from projections.projector import Projector  # noqa: E402
from projections.returns.build_return import build_return_content  # noqa: E402

ADMIN = c.Actor(name="bench admin", role="admin", token_id="tok-admin")
HOST = c.Actor(name="bench officer", role="finance_officer", partner_id="ncc", token_id="tok-ncc")
POOL = "bench-bcf"
YEAR = "2025-26"
SCHEMES = 100
BUDGET_SECONDS = 2.0

STREAMS = ("minimum_nhs_contribution", "la_better_care_grant", "dfg", "additional_la")
PAYERS = {  # who pays each stream
    "minimum_nhs_contribution": "icb-a",
    "la_better_care_grant": "ncc",
    "dfg": "city",
    "additional_la": "ncc",
}


def plan() -> Plan:
    ref = default_catalogue().for_year(YEAR)
    assert ref is not None
    schemes = []
    for i in range(SCHEMES):
        commissioner = ("la", "icb", "joint", "ncc")[i % 4]
        schemes.append(
            Scheme(
                id=f"scheme-{i:03d}",
                name=f"Scheme number {i}",
                scheme_type=ref.scheme_types[i % len(ref.scheme_types)],
                commissioner=commissioner,
                joint_split=JointSplit(la=Decimal(55), icb=Decimal(45))
                if commissioner == "joint"
                else None,
                provider_type=ref.provider_types[i % len(ref.provider_types)],
                funding_stream=STREAMS[i % len(STREAMS)],
                planned=1_000_000_00 + i * 10_000_00,
            )
        )
    contributions = tuple(
        PlannedContribution(partner_id=PAYERS[s], funding_stream=s, amount=40_000_000_00)
        for s in STREAMS
    )
    return Plan(contributions=contributions, schemes=tuple(schemes))


def setup(ledger: Ledger) -> None:
    for pid, name, kind in (
        ("ncc", "Nottinghamshire County Council", "local_authority"),
        ("city", "Nottingham City Council", "local_authority"),
        ("icb-a", "NHS Nottingham and Nottinghamshire ICB", "icb"),
    ):
        ledger.execute(c.RegisterPartner(partner_id=pid, name=name, kind=kind), ADMIN)
    ledger.execute(
        c.EstablishPool(
            pool_id=POOL,
            name="Nottinghamshire Better Care Fund",
            kind="bcf",
            host_partner_id="ncc",
            members=("ncc", "city", "icb-a"),
            hwb_area=HwbArea(name="Nottinghamshire", ons_code="E10000024"),
        ),
        ADMIN,
    )
    ledger.execute(c.AgreePlan(pool_id=POOL, year=YEAR, plan=plan()), ADMIN)


def quarter_commands(n: int, start: date, days: int, ppa_before: date | None) -> list[c.Command]:
    """``n`` postings dated within a quarter (and a few adjustments to the one before)."""
    out: list[c.Command] = []
    for i in range(n):
        on = start + timedelta(days=i % days)
        k = i % 10
        if k < 2:
            stream = STREAMS[i % len(STREAMS)]
            out.append(
                c.PostContribution(
                    pool_id=POOL,
                    partner_id=PAYERS[stream],
                    funding_stream=stream,
                    amount=100_000 + i % 997,
                    effective_date=on,
                    reference=f"BACS-{i:06d}",
                )
            )
        elif k < 9:
            out.append(
                c.RecordExpenditure(
                    pool_id=POOL,
                    scheme_id=f"scheme-{i % SCHEMES:03d}",
                    amount=50_000 + i % 991,
                    effective_date=on,
                    reference=f"INV-{i:06d}",
                )
            )
        else:
            out.append(
                c.CreditExpenditure(  # a credit note against the invoice just before
                    pool_id=POOL,
                    scheme_id=f"scheme-{(i - 1) % SCHEMES:03d}",
                    amount=1_000 + i % 97,
                    effective_date=on,
                    reference=f"CN-{i:06d}",
                )
            )
    if ppa_before is not None:  # late invoices for the closed quarter before
        for j in range(100):
            out.append(
                c.RecordExpenditure(
                    pool_id=POOL,
                    scheme_id=f"scheme-{j:03d}",
                    amount=12_345,
                    effective_date=ppa_before,
                    reference=f"LATE-{j:03d}",
                    prior_period_adjustment=True,
                )
            )
    return out


def load(ledger: Ledger, commands: list[c.Command], batch: int = 1000) -> None:
    who = {c.PostContribution: HOST, c.RecordExpenditure: HOST, c.CreditExpenditure: HOST}
    for i in range(0, len(commands), batch):
        ledger.execute_many(commands[i : i + batch], who[type(commands[i])])


@contextmanager
def store(kind: str) -> Iterator[Engine]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            engine = make_engine(f"sqlite:///{d}/bench.db")
            upgrade(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    with pg_store(DEFAULT_PG_URL) as engine:
        yield engine


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run(kind: str, events: int) -> dict[str, Any]:
    with store(kind) as engine:
        clock = FixedClock(datetime(2025, 7, 31, 6, 0, tzinfo=UTC))
        ledger = Ledger(engine, clock, default_catalogue(), hooks=[Projector()])
        setup(ledger)
        per_q = events // 3
        t0 = time.perf_counter()
        load(ledger, quarter_commands(per_q, date(2025, 4, 1), 91, None))
        q1 = generate_return(ledger, POOL, f"{YEAR}-Q1", ADMIN)
        clock.advance(days=92)  # 31 October
        load(ledger, quarter_commands(per_q, date(2025, 7, 1), 92, date(2025, 6, 30)))
        q2 = generate_return(ledger, POOL, f"{YEAR}-Q2", ADMIN)
        clock.advance(days=92)  # 31 January
        load(ledger, quarter_commands(events - 2 * per_q, date(2025, 10, 1), 92, date(2025, 9, 30)))
        loaded = time.perf_counter() - t0
        with engine.connect() as conn:
            head = read_head(conn).position

        def content() -> Any:
            with engine.connect() as conn, conn.begin():
                return build_return_content(conn, POOL, f"{YEAR}-Q3", head)

        t_content, built = timed(content)
        t_json, js = timed(lambda: render_json(built))
        t_csv, zipped = timed(lambda: render_csv_zip(built))
        t_xlsx, wb = timed(lambda: render_xlsx(built))

        def all_three() -> None:
            b = content()
            render_json(b)
            render_csv_zip(b)
            render_xlsx(b)

        t_all, _ = timed(all_three)
        t0 = time.perf_counter()
        q3 = generate_return(ledger, POOL, f"{YEAR}-Q3", ADMIN)
        t_generate = time.perf_counter() - t0
        assert q1.filed and q2.filed and q3.filed
        return {
            "store": kind,
            "events": head,
            "schemes": SCHEMES,
            "adjustments": len(built.prior_period_adjustments),
            "load_s": loaded,
            "content_s": t_content,
            "json_s": t_json,
            "csv_s": t_csv,
            "xlsx_s": t_xlsx,
            "all_three_s": t_all,
            "generate_s": t_generate,
            "bytes": (len(js), len(zipped), len(wb)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    print(
        f"{'store':<11}{'events':>8}{'ppa':>6}{'content':>9}{'json':>8}{'csv':>8}{'xlsx':>8}"
        f"{'all 3':>8}{'generate':>10}  budget {BUDGET_SECONDS:.1f} s"
    )
    worst = 0.0
    for kind in kinds:
        r = run(kind, args.events)
        worst = max(worst, r["all_three_s"], r["generate_s"])
        print(
            f"{r['store']:<11}{r['events']:>8}{r['adjustments']:>6}{r['content_s']:>9.3f}"
            f"{r['json_s']:>8.3f}{r['csv_s']:>8.3f}{r['xlsx_s']:>8.3f}{r['all_three_s']:>8.3f}"
            f"{r['generate_s']:>10.3f}  (load {r['load_s']:.0f} s; bytes json/csv/xlsx "
            f"{r['bytes'][0]}/{r['bytes'][1]}/{r['bytes'][2]})",
            flush=True,
        )
    print(f"{'PASS' if worst <= BUDGET_SECONDS else 'OVER BUDGET'}: worst {worst:.3f} s")


if __name__ == "__main__":
    main()
