"""A demo partnership, loaded into an empty ledger through ``Ledger.execute``.

The partners and pools are public Nottinghamshire examples (see the seed papers):

- ``ices``: the Integrated Community Equipment Service, a Section 75 pool hosted by
  Nottinghamshire County Council with Nottingham City Council and the three NHS
  commissioners of the partnership agreement (NHS Nottingham City, NHS
  Nottinghamshire County, NHS Bassetlaw); £5,360,123 a year in 2025-26.
- ``mid-notts-bcf``: the Mid-Nottinghamshire Better Care Fund, with the national
  funding streams, twelve schemes of the national scheme types, the quarterly BCF
  metrics and a £900,000 s.256 transfer from the ICB to the county council.
- ``mid-notts-alliance``: the Mid-Nottinghamshire Better Together Alliance: a
  capitated budget over six localities, home-based care at £17.00 an hour paid 95%
  on commissioned hours and 5% on two outcomes, and a rapid-response risk/reward
  scheme (the council pays, the ICB saves acute bed days).

Two financial years: 2025-26 complete (all four quarters closed) and 2026-27 up to
``today`` (quarters that have ended are closed, except the latest, left open so the
scheduler has a return to file). Postings are monthly and never dated after
``today``. Corrections of each kind are included: a duplicated invoice reversed, a
payment made twice and refunded, a credit note, an opening balance, forecasts (whole
pool and per scheme) and one prior-period adjustment into a closed quarter.

Everything is deterministic: the month-to-month variation comes from a seeded
``random.Random``. The officers' actors carry no token id (the data is loaded by the
CLI, not through the API); each event still names its role, partner and a request id.

The package, a module a part: :mod:`.partnership` (the partners, the pools' ids, the
years and the actors who post), :mod:`.amounts` (pounds to pence, scaling and
splitting amounts), a module a pool with its data and plan builders (:mod:`.ices`,
:mod:`.bcf`, :mod:`.alliance`), and the loader: :mod:`.posting` (its state and the
plumbing each posting goes through), :mod:`.monthly` and :mod:`.quarterly` (what it
posts each month and at each quarter's end), :mod:`.loader` (``load_demo``: the order
it all happens in) and :mod:`.story` (``load_demo_as_it_happened``: each fact recorded
on its own day).

Here, the public entry points and the names callers recognise the demo by.
"""

from __future__ import annotations

from ledger.demo.loader import DemoSummary, ledger_is_empty, load_demo
from ledger.demo.partnership import ALLIANCE, BCF, DEMO_PARTNERS, ICES
from ledger.demo.story import load_demo_as_it_happened

__all__ = [
    "ALLIANCE",
    "BCF",
    "DEMO_PARTNERS",
    "ICES",
    "DemoSummary",
    "ledger_is_empty",
    "load_demo",
    "load_demo_as_it_happened",
]
