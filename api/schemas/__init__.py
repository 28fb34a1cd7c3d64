"""The API's own models: what clients send and what they get back.

Separate from events and commands (``ledger.domain``) and from tables: requests carry
amounts as decimal strings of pounds (parsed here, once, into pence by
``money.parse_amount``), dates as ``YYYY-MM-DD`` strings and ids as slugs; responses
give every amount as a two-decimal string. Every request model refuses unknown fields
and every model carries an example, so ``/openapi.json`` shows one for every route.

Import from the modules themselves; this package re-exports nothing:

- ``fields``: the field types checked at the edge and the models' config helpers
  (every other module builds on it);
- ``parties``: partners and pools, the bodies that register them and their views;
- ``plan``: the plan body of a pool-year;
- ``postings``: the bodies of the money writes;
- ``events``: recorded events as responses (write and import results, the audit log,
  verify, health);
- ``trace``: the trace of a figure;
- ``balances``: figures 6.1-6.2, balances and risk share;
- ``alliance``: figures 6.3-6.6, risk/reward, capitation, outcome payments, metrics.
"""
