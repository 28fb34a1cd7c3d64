"""What each board page shows, assembled from the read side as at one position.

Every page function takes an open read connection and the resolved :class:`AsAt`, so
all the figures of a page are answered as at the same position. Amounts stay integer
pence until the templates format them; each amount the ledger can trace is a
:class:`~api.board.pages.shared.Fig` that links to the events behind it.

A module a page: :mod:`.overview`, :mod:`.pool_year` (with
:mod:`.pool_year_sections`), :mod:`.alliance`, :mod:`.returns_page`, :mod:`.events`
(the event log and one event) and :mod:`.trace`; :mod:`.shared` holds what they share.
"""
