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
