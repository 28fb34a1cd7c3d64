"""Everything ``pooled verify`` and ``GET /v1/verify`` check, in one place: the chain and
the Merkle tree (``ledger.store.verify``, with every stored checkpoint against this
server's public key) and every filed document against its recorded hash and chain
head (``filing.documents``)."""

from __future__ import annotations

from dataclasses import dataclass

from filing.documents import verify_filed_returns
from ledger.handlers import Ledger
from ledger.store.verify import VerifyResult, verify


@dataclass(frozen=True)
class FullCheck:
    chain: VerifyResult
    documents_checked: int
    problems: tuple[str, ...]  # every problem found; the chain's first, if any

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_all(ledger: Ledger) -> FullCheck:
    ring = ledger.key_ring()  # the current key and the retired ones
    chain = verify(ledger.engine, keys=ring or None)
    docs = verify_filed_returns(ledger.engine)
    first = (chain.problem,) if chain.problem else ()
    return FullCheck(chain, docs.documents_checked, first + docs.problems)
