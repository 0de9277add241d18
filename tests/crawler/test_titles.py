from __future__ import annotations

import pytest

from crawler.spiders.titles import full_title, infer_year, is_hub_title, is_report_title, reject_reason


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("宿州市人民政府2019年政府信息公开工作年度报告", True),
        ("2022年上海市政府信息公开工作年度报告", True),
        ("宿迁市 2025 年政府信息公开工作年度报告", True),
        ("某某部机关服务局2023年政府信息公开工作年度报告（图片版）", True),
        ("区统计局2023年政府信息公开年度工作报告", True),
        ("某某局政府信息公开年报", True),
        ("某某省第6厅政府信息公开年报", True),
        ("某某市政府网站工作年度报表", False),
        ("2023年政府网站年度报表", False),
        ("2024年某某市政府工作报告", False),
        ("某某大学2023年信息公开年度报告", False),
        ("某某局2023年部门预算", False),
        ("政府信息公开指南", False),
        ("", False),
    ],
)
def test_is_report_title(title, expected):
    assert is_report_title(title) is expected


def test_reject_reasons():
    assert reject_reason("某某市政府网站工作年度报表") == "confusable"
    assert reject_reason("政府信息公开指南") == "not-report"
    assert reject_reason(None) == "no-title"


@pytest.mark.parametrize(
    ("title", "url", "published", "expected"),
    [
        ("某某部2023年政府信息公开工作年度报告", None, None, (2023, "title")),
        ("2022年上海市政府信息公开工作年度报告", None, None, (2022, "title")),
        ("宿迁市 2025 年政府信息公开工作年度报告", None, None, (2025, "title")),
        ("某局年报", "http://x.gov.cn/wzxxgknb/2024/qjp.pdf", None, (2023, "url")),
        ("某局年报", "http://x.gov.cn/zfxxgk/zfxxgknb/gknb2017/t1.html", None, (2017, "url")),
        ("某局年报", "http://x.gov.cn/zfxxgknb/bm/2023n/content/post_1.html", None, (2023, "url")),
        ("某局年报", "http://x.gov.cn/art/2024/1/29/art_1_2.html", "2024-01-29", (2023, "published")),
        ("某局年报", None, None, (None, None)),
    ],
)
def test_infer_year(title, url, published, expected):
    assert infer_year(title, url, published) == expected


def test_full_title_prefers_title_attribute_when_cut():
    assert full_title("某某部2023年政府信息…", "某某部2023年政府信息公开工作年度报告") == "某某部2023年政府信息公开工作年度报告"
    assert full_title("某某部2023年政府信息公开工作年度报告", None) == "某某部2023年政府信息公开工作年度报告"
    assert full_title("", "标题") == "标题"


def test_hub_title():
    assert is_hub_title("2024年政府信息公开年报汇总")
    assert not is_hub_title("政府信息公开年报")
