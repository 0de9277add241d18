"""Body identity: exact normalisation only, aliases recorded, similar names of different bodies kept apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.across.bodies import assign_bodies, body_kind, load_aliases, normalise_name
from archive.across.coverage import deadline


def rep(rid: int, agency: str, year: int, code: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"id": rid, "agency": agency, "year": year, "region_code": code, "province": kw.get("province"),
            "prefecture": kw.get("prefecture"), "county": kw.get("county"), "scope": kw.get("scope", "self")}


def bodies_of(reports: list[dict[str, Any]], aliases: Any = None) -> dict[int, str]:
    _, brs, _ = assign_bodies(reports, aliases or load_aliases(Path("/nonexistent.yaml")))
    return {b["report_id"]: b["body_id"] for b in brs}


def test_normalisation_is_exact_and_documented() -> None:
    assert normalise_name("上海市人民政府办公厅") == "上海市人民政府办公室"
    assert normalise_name("焦作市 人民政府办公室") == "焦作市人民政府办公室"
    assert normalise_name("ＸＸ市“三农”工作办公室") == "XX市三农工作办公室"
    assert normalise_name("武汉市生态环境局 (mirror copy)") == "武汉市生态环境局"
    assert normalise_name("焦作市人民政府") != normalise_name("焦作市人民政府办公室")


def test_similar_names_of_different_bodies_stay_different() -> None:
    got = bodies_of([
        rep(1, "平潭综合实验区财政金融局", 2022, "350128"), rep(2, "平潭县财政局", 2022, "350128"),
        rep(3, "财政局", 2022, "410802"), rep(4, "财政局", 2023, "410803"),  # one bare name, two counties
        rep(5, "焦作市人民政府", 2022, "410800"), rep(6, "焦作市人民政府办公室", 2022, "410800"),
    ])
    assert len(set(got.values())) == 6


def test_one_body_across_years_sources_and_a_region_only_sometimes_known() -> None:
    got = bodies_of([
        rep(1, "上海市人民政府办公厅", 2019, "310000"), rep(2, "上海市人民政府办公室", 2020, "310000"),
        rep(3, "上海市人民政府办公室", 2021, None),
    ])
    assert len(set(got.values())) == 1
    _, brs, names = assign_bodies([rep(1, "上海市人民政府办公室", 2020, "310000"),
                                   rep(2, "上海市人民政府办公室", 2021, None)], load_aliases(Path("/x")))
    assert {b["name_rule"] for b in brs} == {"exact", "region_unknown"}
    assert len(names) == 1 and names[0]["years"] == "2020,2021"


def test_aliases_follow_renamings_by_year_and_refuse_distinct_bodies(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "renamed:\n"
        "  - {from: 丽水市农业局, to: 丽水市农业农村局, years: [2015, 2018], note: 2019 机构改革}\n"
        "  - {from: 平潭综合实验区财政金融局, to: 平潭县财政局}\n"
        "distinct:\n  - [平潭综合实验区财政金融局, 平潭县财政局]\n", encoding="utf-8")
    aliases = load_aliases(path)
    assert aliases.canonical("丽水市农业局", 2018) == ("丽水市农业农村局", "2019 机构改革")
    assert aliases.canonical("丽水市农业局", 2020) == ("丽水市农业局", None)  # outside the years: not merged
    assert "平潭综合实验区财政金融局" not in aliases.renamed  # refused: listed as distinct


def test_duplicates_and_reports_without_identity_are_recorded_not_dropped() -> None:
    _, brs, _ = assign_bodies([rep(1, "焦作市教育局", 2022, "410800"), rep(2, "焦作市教育局", 2022, "410800"),
                               rep(3, "", 2022), {**rep(4, "焦作市教育局", 2022), "year": None}],
                              load_aliases(Path("/x")))
    by = {b["report_id"]: b for b in brs}
    assert by[2]["duplicate_of"] == 1 and by[1]["duplicate_of"] is None
    assert by[3]["body_id"] is None and by[3]["reason"] == "no agency"
    assert by[4]["body_id"] is None and by[4]["reason"] == "no report year"


def test_deadlines_follow_the_regulation_of_the_report_year() -> None:
    assert body_kind("焦作市人民政府办公室") == "government" and body_kind("焦作市教育局") == "department"
    assert str(deadline("department", 2021)) == "2022-01-31"
    assert str(deadline("government", 2021)) == "2022-03-31"
    assert str(deadline("department", 2018)) == "2019-03-31"  # the 2007 regulation: 31 March for everyone
