"""The canonical content of a quarterly BCF return and of a Section 75 annual
memorandum statement, as at one position of the ledger (domain.md 6.7).

Content is built from the read side as at a position ``at`` and nothing else, so the
same pool, period and position give the same content (and so the same JSON and CSV
bytes) whatever the ledger records afterwards. Money is integer pence here; the
renderers (``filing.render``) write it as decimal strings of pounds (JSON, CSV) or
as numbers with a pounds format (the workbook).

The modules, each importing only those above it:

- ``shared``: the money field and the types both documents share (the cover's
  facts, the pool's figures, the risk-share summary).
- ``return_document`` and ``memorandum_document``: the two documents' dataclasses.
- ``canonical``: either document (``Content``), its canonical JSON and content hash.
- ``reference``: the year's reference lists as the ledger recorded them, and the
  return's layout from them.
- ``lines``, ``totals``, ``adjustments``, ``pool``: the parts of a return (and of a
  memorandum) built from the read models.
- ``build_return`` and ``build_memorandum``: the two documents, whole and sealed.

Rules chosen where the spec is silent (also in docs/DECISIONS.md; each module
states the rules it applies):

- **Filed or draft is not content.** A draft generated as at a filed return's
  position is byte-identical (JSON, CSV) to the filed one.
- **Year to date** is the quarters of the year up to and including the return's.
"""
