"""Splitting digit runs whose cell boundaries were lost in flattening (`规章000`, `640020470`).

Only whitespace is a certain boundary. A run is split into the required number of cells in every way that
respects "no leading zeros" (a printed count never starts with 0 unless it is 0); the callers keep a split
only when the table identities leave exactly one candidate. Never guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

MAX_CANDIDATES = 20000


def splits(tokens: Sequence[str], n: int, limit: int = MAX_CANDIDATES) -> list[tuple[int, ...]]:
    """Every way to read the digit tokens as exactly `n` numbers (each token gives ≥ 1 number, in order).

    >>> splits(["230", "000023"], 7)[:2]
    [(2, 30, 0, 0, 0, 0, 23), (23, 0, 0, 0, 0, 0, 23)]
    """
    toks = tuple(t for t in tokens if t)
    if not toks or any(not t.isdigit() for t in toks):
        return []
    total_digits = sum(len(t) for t in toks)
    if total_digits < n or len(toks) > n:
        return []
    out: list[tuple[int, ...]] = []

    @cache
    def token_parts(tok: str) -> tuple[tuple[int, ...], ...]:
        """All readings of one token as a sequence of numbers without leading zeros."""
        if not tok:
            return ((),)
        res: list[tuple[int, ...]] = []
        if tok[0] == "0":
            for rest in token_parts(tok[1:]):
                res.append((0, *rest))
            return tuple(res)
        for cut in range(1, len(tok) + 1):
            head = int(tok[:cut])
            for rest in token_parts(tok[cut:]):
                res.append((head, *rest))
        return tuple(res)

    def walk(i: int, acc: tuple[int, ...]) -> None:
        if len(out) >= limit:
            return
        remaining_tokens = len(toks) - i
        if i == len(toks):
            if len(acc) == n:
                out.append(acc)
            return
        need = n - len(acc)
        if need < remaining_tokens:
            return
        for part in token_parts(toks[i]):
            if len(part) <= need - (remaining_tokens - 1):
                walk(i + 1, acc + part)

    if total_digits > 40:  # nothing printed in these tables is that long; refuse pathological input
        return []
    walk(0, ())
    return out


def unique_split(
    tokens: Sequence[str], n: int, accept: Callable[[tuple[int, ...]], bool] | None = None
) -> tuple[tuple[int, ...] | None, list[tuple[int, ...]]]:
    """(the only candidate that `accept` admits, or None; all admitted candidates)."""
    cands = [c for c in splits(tokens, n) if accept is None or accept(c)]
    return (cands[0] if len(cands) == 1 else None), cands


def row_identity(cand: tuple[int, ...]) -> bool:
    """I3 for a table 三 row read as 7 numbers: the six applicant columns add up to 总计."""
    return sum(cand[:6]) == cand[6]


def t4_identity(cand: tuple[int, ...]) -> bool:
    """I4 for table 四 read as 15 numbers: in each group of five, the first four add up to 总计."""
    return all(sum(cand[g : g + 4]) == cand[g + 4] for g in (0, 5, 10))
