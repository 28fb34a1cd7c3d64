"""Reference data shipped with the ledger (funding streams, scheme and provider types,
metrics, reporting calendar, return layout), one file per financial year.

This layer reads files; the models and rules are in ``ledger.domain.reference``."""

from ledger.refdata.loader import (
    ReferenceCatalogue,
    available_years,
    catalogue_from_directory,
    default_catalogue,
    load_reference_data,
)

__all__ = [
    "ReferenceCatalogue",
    "available_years",
    "catalogue_from_directory",
    "default_catalogue",
    "load_reference_data",
]
