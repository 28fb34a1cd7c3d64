"""The deciders of ``ledger.domain.decide``, one module per family of commands, with
the checks they share (``checks``) and what they decide from (``context``)."""
