"""Risk share (spec 6.2): who bears a pool-year's overspend or underspend.

Every method first works out each partner's exact share as a ``Fraction``; caps and
anything the rule leaves unshared fall to the host; then the shares are rounded
once (largest remainder on the size of the variance, sign put back) so the parts
always sum exactly to the variance.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from ledger.domain.money import round_parts
from ledger.domain.plan import JointSplit, RiskRule, RiskShareRules, Share, Tier

LA_KINDS = frozenset({"local_authority", "district_council"})
ICB_KINDS = frozenset({"icb"})
_HUNDRED = Decimal(100)

Problem = tuple[str, str]


@dataclass(frozen=True)
class SchemeVariance:
    scheme_id: str
    commissioner: str
    joint_split: JointSplit | None
    variance: int  # pence, either sign: outturn minus plan


@dataclass(frozen=True)
class RiskShareResult:
    direction: Literal["overspend", "underspend", "none"]
    method: str
    allocations: dict[str, int]  # every member partner, sorted by id, pence
    carried_forward: int = 0  # pence carried to next year's opening balance


def _side(
    kinds: frozenset[str], label: str, member_kinds: Mapping[str, str], planned: Mapping[str, int]
) -> dict[str, Fraction]:
    ids = sorted(p for p, k in member_kinds.items() if k in kinds)
    if not ids:
        raise ValueError(f"the pool has no '{label}' member (of kind {', '.join(sorted(kinds))})")
    weights = {p: Fraction(planned.get(p, 0)) for p in ids}
    whole = sum(weights.values(), Fraction(0))
    if whole == 0:
        return {p: Fraction(1, len(ids)) for p in ids}
    return {p: w / whole for p, w in weights.items()}


def commissioner_weights(
    commissioner: str,
    joint_split: JointSplit | None,
    member_kinds: Mapping[str, str],
    planned: Mapping[str, int],
) -> dict[str, Fraction]:
    """Who a scheme's commissioner stands for, as fractions summing to 1 (section 4).

    ``la`` and ``icb`` are the members of those kinds, sharing by planned
    contributions (equally if those are all zero); ``joint`` splits la/icb by the
    scheme's percentages; any other value must be a member partner's id.
    """
    if commissioner == "la":
        return _side(LA_KINDS, "la", member_kinds, planned)
    if commissioner == "icb":
        return _side(ICB_KINDS, "icb", member_kinds, planned)
    if commissioner == "joint":
        if joint_split is None:
            raise ValueError("a joint scheme needs its la/icb split")
        la, icb = Fraction(joint_split.la), Fraction(joint_split.icb)
        if la < 0 or icb < 0 or la + icb != 100:
            raise ValueError("a joint split's la and icb must sum to exactly 100")
        out: dict[str, Fraction] = {}
        for pct, kinds, label in ((la, LA_KINDS, "la"), (icb, ICB_KINDS, "icb")):
            if pct == 0:
                continue  # a side with no share need not exist
            for p, w in _side(kinds, label, member_kinds, planned).items():
                out[p] = out.get(p, Fraction(0)) + w * pct / 100
        return dict(sorted(out.items()))
    if commissioner in member_kinds:
        return {commissioner: Fraction(1)}
    raise ValueError(f"commissioner '{commissioner}' is not la, icb, joint or a member of the pool")


def _by_pct(shares: Sequence[Share], amount: int, members: Collection[str]) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for s in shares:
        if s.partner_id not in members:
            raise ValueError(f"'{s.partner_id}' is not a member of the pool")
        out[s.partner_id] = out.get(s.partner_id, Fraction(0)) + amount * Fraction(s.pct) / 100
    return out


def _tiered(tiers: Sequence[Tier], size: int, members: Collection[str]) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    bottom = 0
    for tier in tiers:
        top = size if tier.up_to is None else min(size, tier.up_to)
        if top > bottom:
            for p, v in _by_pct(tier.shares, top - bottom, members).items():
                out[p] = out.get(p, Fraction(0)) + v
            bottom = top
    return out  # any size above the last band's top is left for the host


def _exact(
    rule: RiskRule,
    size: int,
    sign: int,
    *,
    host: str,
    members: Collection[str],
    member_kinds: Mapping[str, str],
    planned: Mapping[str, int],
    scheme_variances: Sequence[SchemeVariance],
) -> dict[str, Fraction]:
    """Exact shares of ``size`` (the variance without its sign), before caps."""
    if rule.method == "proportional":
        weights = {m: Fraction(planned.get(m, 0)) for m in members}
        whole = sum(weights.values(), Fraction(0))
        if whole == 0:
            return {host: Fraction(size)}
        return {m: size * w / whole for m, w in weights.items()}
    if rule.method == "fixed":
        return _by_pct(rule.shares, size, members)
    if rule.method == "tiered":
        return _tiered(rule.tiers, size, members)
    if rule.method == "by_commissioner":
        out: dict[str, Fraction] = {}
        for sv in scheme_variances:
            weights = commissioner_weights(sv.commissioner, sv.joint_split, member_kinds, planned)
            for p, w in weights.items():
                out[p] = out.get(p, Fraction(0)) + sign * sv.variance * w
        return out
    raise ValueError(f"method '{rule.method}' cannot allocate this variance")


def allocate_risk_share(
    variance: int,
    rules: RiskShareRules,
    *,
    host: str,
    member_kinds: Mapping[str, str],
    planned: Mapping[str, int],
    scheme_variances: Sequence[SchemeVariance] = (),
) -> RiskShareResult:
    """Share a pool-year's variance (pence; positive = overspend) among its members."""
    members = sorted(set(member_kinds) | {host})
    zeros = dict.fromkeys(members, 0)
    if variance == 0:
        return RiskShareResult("none", "none", zeros, 0)
    direction: Literal["overspend", "underspend"] = "overspend" if variance > 0 else "underspend"
    rule = rules.overspend if variance > 0 else rules.underspend
    if rule.method == "carry_forward":
        if variance > 0:
            raise ValueError("carry_forward applies to an underspend only")
        return RiskShareResult(direction, rule.method, zeros, -variance)
    sign = 1 if variance > 0 else -1
    size = abs(variance)
    exact = _exact(
        rule,
        size,
        sign,
        host=host,
        members=members,
        member_kinds=member_kinds,
        planned=planned,
        scheme_variances=scheme_variances,
    )
    if rule.caps and variance < 0:
        raise ValueError("caps apply to an overspend rule only")
    for cap in rule.caps:
        if cap.partner_id == host:
            raise ValueError("the host bears what caps remove and cannot be capped")
        if exact.get(cap.partner_id, Fraction(0)) > cap.amount:
            exact[cap.partner_id] = Fraction(cap.amount)
    exact = {m: exact.get(m, Fraction(0)) for m in members}
    exact[host] += size - sum(exact.values(), Fraction(0))  # caps and unshared remainder
    rounded = round_parts(exact, members)
    return RiskShareResult(direction, rule.method, {m: sign * rounded[m] for m in members}, 0)


def _check_shares(shares: Sequence[Share], path: str, everyone: Collection[str]) -> list[Problem]:
    if not shares:
        return [(path, "name each member's percentage")]
    out: list[Problem] = []
    seen: set[str] = set()
    for i, s in enumerate(shares):
        if s.partner_id not in everyone:
            out.append((f"{path}[{i}].partner_id", f"'{s.partner_id}' is not a member of the pool"))
        elif s.partner_id in seen:
            out.append((f"{path}[{i}].partner_id", f"'{s.partner_id}' is named twice"))
        seen.add(s.partner_id)
        if s.pct < 0:
            out.append((f"{path}[{i}].pct", "must not be negative"))
    total = sum((s.pct for s in shares), Decimal(0))
    if total != _HUNDRED:
        out.append((path, f"must sum to exactly 100, not {total}"))
    return out


def _check_tiers(tiers: Sequence[Tier], path: str, everyone: Collection[str]) -> list[Problem]:
    if not tiers:
        return [(path, "a tiered rule needs at least one band")]
    out: list[Problem] = []
    previous = 0
    for i, tier in enumerate(tiers):
        tp = f"{path}[{i}]"
        last = i == len(tiers) - 1
        if tier.up_to is None:
            if not last:
                out.append((f"{tp}.up_to", "only the last band may be open-ended"))
        else:
            if last:
                out.append((f"{tp}.up_to", "the last band must be open-ended (no up_to)"))
            if tier.up_to <= previous:
                out.append((f"{tp}.up_to", "must be above the previous band's top (and zero)"))
            previous = max(previous, tier.up_to)
        out += _check_shares(tier.shares, f"{tp}.shares", everyone)
    return out


def validate_rules(rules: RiskShareRules, *, host: str, members: Collection[str]) -> list[Problem]:
    """Every problem with a pool-year's risk-share rules, as (field path, message)."""
    everyone = set(members) | {host}
    out: list[Problem] = []
    for side, rule in (("overspend", rules.overspend), ("underspend", rules.underspend)):
        path = f"risk_share.{side}"
        if rule.method == "carry_forward" and side == "overspend":
            out.append((f"{path}.method", "carry_forward applies to an underspend only"))
        if rule.method == "fixed":
            out += _check_shares(rule.shares, f"{path}.shares", everyone)
        elif rule.shares:
            out.append((f"{path}.shares", "only a fixed rule takes shares"))
        if rule.method == "tiered":
            out += _check_tiers(rule.tiers, f"{path}.tiers", everyone)
        elif rule.tiers:
            out.append((f"{path}.tiers", "only a tiered rule takes tiers"))
        if rule.caps and side == "underspend":
            out.append((f"{path}.caps", "caps apply to an overspend rule only"))
            continue
        capped: set[str] = set()
        for i, cap in enumerate(rule.caps):
            cp = f"{path}.caps[{i}]"
            if cap.partner_id == host:
                out.append(
                    (f"{cp}.partner_id", "the host bears what caps remove; it cannot be capped")
                )
            elif cap.partner_id not in everyone:
                out.append((f"{cp}.partner_id", f"'{cap.partner_id}' is not a member of the pool"))
            elif cap.partner_id in capped:
                out.append((f"{cp}.partner_id", f"'{cap.partner_id}' is capped twice"))
            capped.add(cap.partner_id)
            if cap.amount < 0:
                out.append((f"{cp}.amount", "must not be negative"))
    return out
