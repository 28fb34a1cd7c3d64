"""Alliance risk/reward (spec 6.3): share the net benefit of a scheme by agreed shares.

Partners' costs and savings fall where the work happens (a council pays for a
community service, an ICB saves bed days); the agreed gain or loss shares say where
the net benefit should end up; the balancing transfers move it there. The net
benefit is split as one allocation, so the outcomes sum to it exactly and the
transfers sum to zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.money import allocate


@dataclass(frozen=True)
class PartnerOutcome:
    partner_id: str
    costs: int  # pence
    savings: int  # pence
    outcome: int  # n_i: its agreed share of the net benefit (either sign)
    transfer: int  # t_i: what it receives (negative: what it pays)


@dataclass(frozen=True)
class Settlement:
    from_partner: str
    to_partner: str
    amount: int  # pence, positive


@dataclass(frozen=True)
class RiskRewardOutcome:
    net_benefit: int  # N, pence (negative: a net loss)
    partners: tuple[PartnerOutcome, ...]  # sorted by partner id
    settlements: tuple[Settlement, ...]


def gain_loss_share(
    costs: Mapping[str, int],
    savings: Mapping[str, int],
    gain_shares: Mapping[str, Decimal],
    loss_shares: Mapping[str, Decimal],
) -> RiskRewardOutcome:
    """Net benefit, each partner's agreed outcome and transfer, and who pays whom.

    Raises ``ValueError`` if the shares to use are all zero (the plan refuses that).
    """
    partners = sorted(set(costs) | set(savings) | set(gain_shares) | set(loss_shares))
    c = {p: costs.get(p, 0) for p in partners}
    s = {p: savings.get(p, 0) for p in partners}
    net = sum(s.values()) - sum(c.values())
    shares = gain_shares if net >= 0 else loss_shares
    outcome = allocate(net, {p: shares.get(p, Decimal(0)) for p in partners}, partners)
    transfer = {p: outcome[p] - (s[p] - c[p]) for p in partners}
    return RiskRewardOutcome(
        net_benefit=net,
        partners=tuple(PartnerOutcome(p, c[p], s[p], outcome[p], transfer[p]) for p in partners),
        settlements=settle(transfer),
    )


def settle(transfers: Mapping[str, int]) -> tuple[Settlement, ...]:
    """Match payers to receivers in partner-id order, greedily, until all is paid.

    ``transfers`` must sum to zero; the settlements then sum to the positive
    transfers and each partner's settlements net to its transfer.
    """
    if sum(transfers.values()) != 0:
        raise ValueError("transfers must sum to zero")
    ordered = sorted(transfers.items())
    payers = [p for p, t in ordered if t < 0]
    owed = [-t for _, t in ordered if t < 0]
    receivers = [p for p, t in ordered if t > 0]
    due = [t for _, t in ordered if t > 0]
    out: list[Settlement] = []
    i = j = 0
    while i < len(payers) and j < len(receivers):
        amount = min(owed[i], due[j])
        out.append(Settlement(payers[i], receivers[j], amount))
        owed[i] -= amount
        due[j] -= amount
        if owed[i] == 0:
            i += 1
        if due[j] == 0:
            j += 1
    return tuple(out)
