"""Load the shipped reference data (``ledger/refdata/data/<year>.json``) and hold it
as a catalogue keyed by financial year.

Handlers never read files: they are given a ``ReferenceCatalogue`` (by default
``default_catalogue()``; tests and deployments may build their own, or overlay a
directory of extra or replacement years with ``catalogue_from_directory``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from ledger.domain.reference import ReferenceData

_DATA_PACKAGE = "ledger.refdata.data"
_YEAR_FILE = re.compile(r"^(\d{4}-\d{2})\.json$")


def _data_dir() -> Traversable:
    return files(_DATA_PACKAGE)


def _parse(text: str, year: str, origin: str) -> ReferenceData:
    data = ReferenceData.model_validate_json(text)
    if data.year != year:
        raise ValueError(f"{origin} holds the lists of {data.year}, not {year}")
    return data


@lru_cache(maxsize=1)
def available_years() -> tuple[str, ...]:
    """The financial years with shipped reference data, oldest first."""
    years = (
        m.group(1)
        for entry in _data_dir().iterdir()
        if entry.is_file() and (m := _YEAR_FILE.match(entry.name))
    )
    return tuple(sorted(years))


@lru_cache(maxsize=32)  # bounded: callers may ask for any string
def load_reference_data(year: str) -> ReferenceData | None:
    """The shipped lists of ``year`` (e.g. "2025-26"), or None when none are shipped.

    A shipped file that fails validation raises: that is a packaging fault, not a
    user error."""
    if year not in available_years():
        return None
    entry = _data_dir() / f"{year}.json"
    return _parse(entry.read_text(encoding="utf-8"), year, f"{year}.json")


class ReferenceCatalogue:
    """The reference data of every known year; what gets injected into handlers."""

    def __init__(self, entries: Iterable[ReferenceData] = ()) -> None:
        by_year: dict[str, ReferenceData] = {}
        for data in entries:
            if data.year in by_year:
                raise ValueError(f"two sets of reference data for {data.year}")
            by_year[data.year] = data
        self._by_year: Mapping[str, ReferenceData] = dict(sorted(by_year.items()))
        self._by_hash: Mapping[str, ReferenceData] = {
            d.content_hash(): d for d in self._by_year.values()
        }

    def for_year(self, year: str) -> ReferenceData | None:
        return self._by_year.get(year)

    def years(self) -> tuple[str, ...]:
        return tuple(self._by_year)

    def by_hash(self, content_hash: str) -> ReferenceData | None:
        """The year's lists whose content hash this is, if the catalogue holds them."""
        return self._by_hash.get(content_hash)

    def with_years(self, *entries: ReferenceData) -> ReferenceCatalogue:
        """A new catalogue with ``entries`` added, replacing any of the same year."""
        merged = dict(self._by_year)
        merged.update((d.year, d) for d in entries)
        return ReferenceCatalogue(merged.values())

    def __contains__(self, year: object) -> bool:
        return year in self._by_year

    def __len__(self) -> int:
        return len(self._by_year)

    def __repr__(self) -> str:
        return f"ReferenceCatalogue(years={list(self._by_year)})"


@lru_cache(maxsize=1)
def default_catalogue() -> ReferenceCatalogue:
    """Every shipped year."""
    loaded = (load_reference_data(year) for year in available_years())
    return ReferenceCatalogue(d for d in loaded if d is not None)


def catalogue_from_directory(
    directory: Path, base: ReferenceCatalogue | None = None
) -> ReferenceCatalogue:
    """``base`` (the shipped catalogue by default) with every ``<year>.json`` in
    ``directory`` added or replacing the shipped year: how a deployment extends the
    lists before the next release."""
    start = default_catalogue() if base is None else base
    extra = [
        _parse(path.read_text(encoding="utf-8"), m.group(1), str(path))
        for path in sorted(directory.iterdir())
        if path.is_file() and (m := _YEAR_FILE.match(path.name))
    ]
    return start.with_years(*extra)
