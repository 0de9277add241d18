"""Digit runs that lost their cell boundaries (`规章000`, `640020470`): split only where identities decide."""

from __future__ import annotations

import pytest

from crawler.parsers.digits import row_identity, splits, t4_identity, unique_split


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["640020470"], (64, 0, 0, 2, 0, 4, 70)),  # 008 一、本年新收
        (["230", "000023"], (23, 0, 0, 0, 0, 0, 23)),  # 006: a stray space is still a boundary
        (["20", "0", "00", "0", "121"], (20, 0, 0, 0, 0, 1, 21)),  # 007 (七)总计
        (["21710000218"], (217, 1, 0, 0, 0, 0, 218)),  # 011
        (["1000001"], (1, 0, 0, 0, 0, 0, 1)),  # seven digits: nothing to decide
        (["220000325"], None),  # 22,0,…,3,25 and 2,20,…,3,25 both satisfy I3: needs I1/I2 across rows
        (["99"], None),  # too few digits
    ],
)
def test_row_runs(tokens: list[str], expected: tuple[int, ...] | None) -> None:
    got, _cands = unique_split(tokens, 7, row_identity)
    assert got == expected


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("10203120001200000", (1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0)),  # 008 table 四
        ("21317000001324019", (2, 1, 3, 1, 7, 0, 0, 0, 0, 0, 13, 2, 4, 0, 19)),  # 011
        ("000000000000000", (0,) * 15),
    ],
)
def test_table_four_runs(run: str, expected: tuple[int, ...]) -> None:
    got, _ = unique_split([run], 15, t4_identity)
    assert got == expected


def test_no_leading_zeros_and_bounds() -> None:
    assert splits(["05"], 1) == []  # a printed count never starts with 0
    assert splits(["000"], 3) == [(0, 0, 0)]
    assert splits(["1" * 60], 7) == []  # pathological input is refused, not enumerated
    assert splits(["12a"], 2) == []
    assert unique_split(["693665"], 3)[0] is None  # table 二: no identity, several readings → unknown


# --- bounded, lazy readings (issue 12 item 1: a 24-digit run cost 6.4 s / 2.5 GB) -------------------------------

from crawler.parsers.digits import (  # noqa: E402
    MAX_CANDIDATES,
    count_readings,
    iter_splits,
    reading_problem,
)


@pytest.mark.parametrize(
    ("tokens", "n"),
    [
        (["640020470"], 7),
        (["230", "000023"], 7),
        (["20", "0", "00", "0", "121"], 7),
        (["10203120001200000"], 15),
        (["1000"], 2),
        (["105"], 2),
        (["0", "0"], 2),
        (["12", "34"], 3),
        (["9"], 3),
        (["123"], 1),
    ],
)
def test_count_matches_the_enumeration(tokens: list[str], n: int) -> None:
    every = list(iter_splits(tokens, n))
    assert count_readings(tokens, n) == len(every) == len(set(every))
    assert all(len(c) == n for c in every)
    assert all("".join(map(str, c)) == "".join(tokens) for c in every)


def _brute(tokens: list[str], n: int) -> list[tuple[int, ...]]:
    """Every reading by brute force over cut positions, in the order splits() promises."""
    import itertools

    def parts(tok: str) -> list[tuple[int, ...]]:
        out = []
        for k in range(len(tok)):
            for cuts in itertools.combinations(range(1, len(tok)), k):
                bounds = (0, *cuts, len(tok))
                pieces = [tok[a:b] for a, b in itertools.pairwise(bounds)]
                if all(p == "0" or p[0] != "0" for p in pieces):
                    out.append(tuple(int(p) for p in pieces))
        return out

    out = [sum(combo, ()) for combo in itertools.product(*(parts(t) for t in tokens))]
    return sorted(c for c in out if len(c) == n)


@pytest.mark.parametrize(
    ("tokens", "n"),
    [(["640020470"], 7), (["230", "000023"], 7), (["2171000021"], 7), (["1020310"], 5), (["30", "0405"], 4)],
)
def test_lazy_readings_are_the_brute_force_ones(tokens: list[str], n: int) -> None:
    assert sorted(splits(tokens, n)) == _brute(tokens, n)


@pytest.mark.parametrize(
    ("tokens", "n", "reason"),
    [
        (["123456789123456789123456"], 7, "too many readings (100947 > 20000)"),  # the 24-digit run of issue 12
        (["1234567891234567891234567891234567891234"], 7, "too many readings (3262623 > 20000)"),
        (["1" * 41], 41, "digit run too long (41 digits > 40)"),
        (["640020470"], 7, None),
        (["12a"], 2, None),
    ],
)
def test_reading_problem_names_the_reason(tokens: list[str], n: int, reason: str | None) -> None:
    assert reading_problem(tokens, n) == reason
    if reason:
        assert splits(tokens, n) == []  # nothing trusted beyond the cap, not the first 20000 of them
        assert unique_split(tokens, n, row_identity if n == 7 else None) == (None, [])


@pytest.mark.parametrize("digits", [24, 30, 40])
def test_long_runs_are_refused_fast_and_small(digits: int) -> None:
    import time
    import tracemalloc

    run = ("1234567891" * 4)[:digits]
    tracemalloc.start()
    started = time.perf_counter()
    got = (splits([run], 7), unique_split([run], 7, row_identity), unique_split([run], 15, t4_identity))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == ([], (None, []), (None, []))
    assert elapsed < 1.0
    assert peak < 2_000_000


@pytest.mark.parametrize(
    "cells",
    [
        (9, 9, 7, 23, 48, 8, 3, 6, 3, 20, 54, 39, 2, 1, 96),  # 21 digits: 30192 readings, streamed
        (9, 7, 9, 41, 66, 14, 2, 5, 2, 23, 8, 55, 10, 7, 80),  # 22 digits: 89148 readings
    ],
)
def test_table_four_runs_past_the_list_cap_are_streamed_through_the_identity(cells: tuple[int, ...]) -> None:
    run = "".join(map(str, cells))
    assert MAX_CANDIDATES < count_readings([run], 15)
    assert splits([run], 15) == []  # the list API stays capped
    assert unique_split([run], 15, t4_identity)[0] == cells
