"""Bounds for the PDF reader that pdfminer does not have: an inflated-bytes budget per document, and its log.

pdfminer inflates every Flate stream whole (``zlib.decompress``): a 408 KB PDF with one 400 MB stream ran
268–342 s in 847 MB. :func:`quiet_pdfminer` puts :class:`_BudgetedZlib` in place of the ``zlib`` module that
``pdfminer.pdftypes`` uses; inside :func:`crawler.parsers.pdf_tables.extract_pdf` (a context variable holds
the document's :class:`Inflate`) every inflated byte is charged, and the first byte over the budget stops
the document with a :class:`ParseError` that names the limit. Outside a document it is plain zlib.
"""

from __future__ import annotations

import contextvars
import logging
import zlib
from typing import Any

from crawler.parsers.model import ParseError

logger = logging.getLogger("crawler.parsers.pdf_tables")


class Inflate:
    """One document's budget of inflated bytes; once spent, every further inflation fails at once."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used, self.exceeded = limit, 0, False

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            self.exceeded = True
            raise ParseError(self.reason())

    def reason(self) -> str:
        return f"PDF decompressed-size budget exceeded: Flate streams inflate to more than {self.limit} bytes"

    def check(self) -> None:
        """Raise ParseError when the budget was exceeded, even where pdfminer caught the first failure."""
        if self.exceeded:
            raise ParseError(self.reason())


BUDGET: contextvars.ContextVar[Inflate | None] = contextvars.ContextVar("pdf_inflate_budget", default=None)


class _Decompressor:
    """zlib.decompressobj whose output is charged to the document's budget."""

    def __init__(self, budget: Inflate) -> None:
        self._d, self._budget = zlib.decompressobj(), budget

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        if self._budget.exceeded:
            raise ParseError(self._budget.reason())
        room = self._budget.limit - self._budget.used + 1
        out = self._d.decompress(data, min(max_length, room) if max_length else room)
        self._budget.take(len(out))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._d, name)


class _BudgetedZlib:
    """Stands in for the ``zlib`` module inside pdfminer.pdftypes: inflation is charged to the budget of the
    document being read (a context variable), and is plain zlib when no document is being read."""

    error = zlib.error

    def decompress(self, data: bytes, *args: Any, **kwargs: Any) -> bytes:
        budget = BUDGET.get()
        if budget is None:
            return zlib.decompress(data, *args, **kwargs)
        d = _Decompressor(budget)
        out = d.decompress(data)
        if not d.eof:  # what zlib.decompress says of a truncated stream (pdfminer then tries its CRC repair)
            raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
        return out

    def decompressobj(self, *args: Any, **kwargs: Any) -> Any:
        budget = BUDGET.get()
        return zlib.decompressobj(*args, **kwargs) if budget is None or args or kwargs else _Decompressor(budget)

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)


class _ToDebug(logging.Filter):
    """Demote a library's records to DEBUG (its warnings describe the file, not a problem of ours): they are
    kept only when DEBUG is enabled for the parser's own logger, as if the parser had logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logger.isEnabledFor(logging.DEBUG)


_DEMOTE = _ToDebug()


def quiet_pdfminer() -> None:
    """Install the inflation budget in pdfminer and route pdfminer's / pdfplumber's log records to DEBUG
    (their per-operator trace is dropped unless a level is set on them). Idempotent."""
    import pdfplumber  # noqa: F401  (imports the pdfminer modules whose loggers get the filter)
    from pdfminer import pdftypes

    if not isinstance(pdftypes.zlib, _BudgetedZlib):
        pdftypes.zlib = _BudgetedZlib()  # type: ignore[assignment]
    for name in [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in ("pdfminer", "pdfplumber")]:
        lg = logging.getLogger(name)
        if _DEMOTE not in lg.filters:
            lg.addFilter(_DEMOTE)
    top = logging.getLogger("pdfminer")
    if top.level == logging.NOTSET:
        top.setLevel(logging.INFO)
