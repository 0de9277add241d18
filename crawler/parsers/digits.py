"""Splitting digit runs whose cell boundaries were lost in flattening (`规章000`, `640020470`).

Only whitespace is a certain boundary. A run is split into the required number of cells in every way that
respects "no leading zeros" (a printed count never starts with 0 unless it is 0); the callers keep a split
only when the table identities leave exactly one candidate. Never guess.

Work is bounded before anything is built: the number of readings is counted first (a small dynamic
programme over digits × cells), and a run with more than ``MAX_CANDIDATES`` readings is refused as
"too many readings" (:func:`reading_problem` says why). Readings are generated lazily, depth first, with
exact pruning: every branch taken ends in a reading, so time is proportional to the readings returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

MAX_CANDIDATES = 20000
MAX_SCAN = 100_000  # readings :func:`unique_split` may stream through an identity filter (~0.5 s)
MAX_RUN_DIGITS = 40  # nothing printed in these tables is that long; refuse pathological input


def _clean(tokens: Sequence[str]) -> tuple[str, ...] | None:
    toks = tuple(t for t in tokens if t)
    if not toks or any(not t.isdecimal() for t in toks):
        return None
    return toks


def _min_parts(tok: str) -> int:
    """Given a digit token, return the fewest numbers it can be read as (each leading 0 stands alone)."""
    zeros = len(tok) - len(tok.lstrip("0"))
    return zeros + (1 if zeros < len(tok) else 0)


def count_readings(tokens: Sequence[str], n: int) -> int:
    """Given digit tokens and a cell count, return how many readings :func:`splits` would give (no limit).

    Cheap: O(digits × n) integer arithmetic, nothing enumerated.
    """
    toks = _clean(tokens)
    if toks is None or n <= 0:
        return 0
    ways = [1] + [0] * n  # ways[k]: readings of the tokens so far as exactly k numbers
    for tok in toks:
        per = _token_counts(tok, n)  # per[k]: readings of this token as k numbers
        nxt = [0] * (n + 1)
        for have, w in enumerate(ways):
            if not w:
                continue
            for k in range(1, n - have + 1):
                if per[k]:
                    nxt[have + k] += w * per[k]
        ways = nxt
    return ways[n]


@lru_cache(maxsize=1024)
def _token_counts(tok: str, n: int) -> tuple[int, ...]:
    """Given one digit token, return for k = 0…n the number of ways to read it as k numbers."""
    length = len(tok)
    # at[i][k]: ways to read tok[i:] as k numbers
    at = [[0] * (n + 1) for _ in range(length + 1)]
    at[length][0] = 1
    for i in range(length - 1, -1, -1):
        ends = [i + 1] if tok[i] == "0" else range(i + 1, length + 1)
        row = at[i]
        for j in ends:
            rest = at[j]
            for k in range(1, n + 1):
                if rest[k - 1]:
                    row[k] += rest[k - 1]
    return tuple(at[0])


def reading_problem(tokens: Sequence[str], n: int, limit: int = MAX_CANDIDATES) -> str | None:
    """Given digit tokens and a cell count, return why :func:`splits` refuses them, or None when it does not.

    The reasons are recorded by the callers next to the cells they leave unknown.
    """
    toks = _clean(tokens)
    if toks is None:
        return None
    digits = sum(len(t) for t in toks)
    if digits > MAX_RUN_DIGITS:
        return f"digit run too long ({digits} digits > {MAX_RUN_DIGITS})"
    count = count_readings(toks, n)
    if count > limit:
        return f"too many readings ({count} > {limit})"
    return None


def iter_splits(tokens: Sequence[str], n: int) -> Iterator[tuple[int, ...]]:
    """Given digit tokens and a cell count, yield every reading as `n` numbers, lazily, in :func:`splits` order.

    No limit applies here: the caller stops when it has seen enough.
    """
    toks = _clean(tokens)
    if toks is None or n <= 0:
        return
    if sum(len(t) for t in toks) < n or len(toks) > n:
        return
    # suffix bounds: fewest / most numbers the tokens from index i on can give
    lo = [0] * (len(toks) + 1)
    hi = [0] * (len(toks) + 1)
    for i in range(len(toks) - 1, -1, -1):
        lo[i] = lo[i + 1] + _min_parts(toks[i])
        hi[i] = hi[i + 1] + len(toks[i])
    acc: list[int] = []

    def walk(ti: int, pos: int) -> Iterator[tuple[int, ...]]:
        tok = toks[ti]
        if pos == len(tok):
            if ti + 1 == len(toks):
                if len(acc) == n:
                    yield tuple(acc)
                return
            yield from walk(ti + 1, 0)
            return
        ends = (pos + 1,) if tok[pos] == "0" else range(pos + 1, len(tok) + 1)
        for end in ends:
            rest = tok[end:]
            have = len(acc) + 1
            fewest = have + (_min_parts(rest) if rest else 0) + lo[ti + 1]
            most = have + len(rest) + hi[ti + 1]
            if fewest <= n <= most:
                acc.append(int(tok[pos:end]))
                yield from walk(ti, end)
                acc.pop()

    yield from walk(0, 0)


def splits(tokens: Sequence[str], n: int, limit: int = MAX_CANDIDATES) -> list[tuple[int, ...]]:
    """Every way to read the digit tokens as exactly `n` numbers (each token gives ≥ 1 number, in order).

    A run with more than `limit` readings (or more than ``MAX_RUN_DIGITS`` digits) gives ``[]``: no reading is
    trusted; :func:`reading_problem` gives the reason to record.

    >>> splits(["230", "000023"], 7)[:2]
    [(2, 30, 0, 0, 0, 0, 23), (23, 0, 0, 0, 0, 0, 23)]
    """
    if _clean(tokens) is None or reading_problem(tokens, n, limit) is not None:
        return []
    return list(iter_splits(tokens, n))


def unique_split(
    tokens: Sequence[str], n: int, accept: Callable[[tuple[int, ...]], bool] | None = None
) -> tuple[tuple[int, ...] | None, list[tuple[int, ...]]]:
    """(the only candidate that `accept` admits, or None; all admitted candidates).

    With `accept`, readings are streamed through it (up to ``MAX_SCAN`` of them, only admitted ones kept);
    beyond the bounds the answer is (None, []) and :func:`reading_problem` gives the reason.
    """
    if accept is None:
        cands = splits(tokens, n)
    elif _clean(tokens) is None or reading_problem(tokens, n, MAX_SCAN) is not None:
        cands = []
    else:
        cands = [c for c in iter_splits(tokens, n) if accept(c)]
    return (cands[0] if len(cands) == 1 else None), cands


def row_identity(cand: tuple[int, ...]) -> bool:
    """I3 for a table 三 row read as 7 numbers: the six applicant columns add up to 总计."""
    return sum(cand[:6]) == cand[6]


def t4_identity(cand: tuple[int, ...]) -> bool:
    """I4 for table 四 read as 15 numbers: in each group of five, the first four add up to 总计."""
    return all(sum(cand[g : g + 4]) == cand[g + 4] for g in (0, 5, 10))


def refusal(run: Sequence[str], n: int, admitted: int) -> str:
    """Given a digit run refused as `n` cells and how many readings were admitted, return why, for the warning:
    the bound it broke (:func:`reading_problem`), else several readings or none."""
    why = reading_problem(run, n)
    if why is not None:
        return why
    return "several readings" if admitted > 1 else "no reading the table's identities admit"
