"""The scheduler's modes become `ogi crawl --mode …` arguments; the crawl's own counts reach the run history."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

import scheduler
from archive import open_archive
from ogi.commands.schedule import run_now
from ogi.service.config import DEFAULT_CONFIG, load_config, parse_config, replace_config


def mode_args(argv: list[str]) -> list[str]:
    """The values of every --mode in a command line."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--mode"]


def test_bundled_jobs_map_to_crawl_modes(db):
    config = load_config(DEFAULT_CONFIG)
    assert config.modes == {"full": ("--mode", "full"), "light": ("--mode", "light"),
                            "revisions": ("--mode", "revisions")}
    runner = scheduler.Runner(db, config)
    expected = {"weekly-season": "light", "monthly-revisions": "revisions", "full-february": "full",
                "full-april": "full"}
    for job_id, mode in expected.items():
        job = config.job(job_id)
        assert job.mode == mode
        argv = runner.command(scheduler.RunRequest(job_id=job.id, mode=job.mode, sources=job.sources), 7)
        assert argv[3:5] == ["crawl", "--db"]  # the default command: this Python's `ogi crawl`
        assert mode_args(argv) == [mode], argv


def test_weekly_job_command_line_carries_mode_light(db):
    config = load_config(DEFAULT_CONFIG)
    job = config.job("weekly-season")
    argv = scheduler.Runner(db, config).command(scheduler.RunRequest(job_id=job.id, mode=job.mode,
                                                                     sources=("beijing",)), 3)
    assert argv[-4:] == ["--mode", "light", "--source", "beijing"]
    assert "--run-id" in argv
    assert argv[argv.index("--run-id") + 1] == "3"
    assert argv[argv.index("--trigger") + 1] == "schedule:weekly-season"


def test_config_without_mode_arguments_still_passes_the_mode(db):
    """A copy of the config written before `--mode` existed (`light: []`) still runs a light crawl."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["modes"] = {"full": [], "light": [], "revisions": [], "quick": ["--download-timeout", "5"]}
    data["jobs"]["quick-job"] = {"mode": "quick", "cron": [{"hour": 1}]}
    config = parse_config(data)
    runner = scheduler.Runner(db, config)
    assert mode_args(runner.command(scheduler.RunRequest(job_id="weekly-season", mode="light"), 1)) == ["light"]
    assert mode_args(runner.command(scheduler.RunRequest(job_id="x", mode="revisions"), 1)) == ["revisions"]
    # a mode of the user's own is not a crawl mode: only its arguments
    assert mode_args(runner.command(scheduler.RunRequest(job_id="quick-job", mode="quick"), 1)) == []
    # an explicit --mode in the mode's arguments wins (light run as a full crawl)
    explicit = replace_config(config, modes={**config.modes, "light": ("--mode=full",)})
    argv = scheduler.Runner(db, explicit).command(scheduler.RunRequest(job_id="w", mode="light"), 1)
    assert mode_args(argv) == []
    assert "--mode=full" in argv


def test_custom_crawl_command_gets_only_the_configured_arguments(db, config):
    config = replace_config(config, modes={"full": (), "light": (), "revisions": ()})
    argv = scheduler.Runner(db, config).command(scheduler.RunRequest(job_id="w", mode="light"), 1)
    assert "--mode" not in argv


@pytest.mark.parametrize("mode", ["light", "revisions", "full"])
def test_run_now_mode_reaches_the_crawl(db, config, plan, tmp_path, mode):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["crawl_command"] = list(config.crawl_command)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(data))
    plan(sources={"a": {"reports_found": 4, "pages": 2}})
    result = CliRunner().invoke(run_now, ["--db", db, "--config", str(cfg), "--source", "a", "--mode", mode])
    assert result.exit_code == 0, result.output
    assert f"mode {mode}" in result.output
    [call] = [json.loads(line) for line in (tmp_path / "plan.json.calls").read_text().splitlines()]
    assert mode_args(call) == [mode]
    assert call[-2:] == ["--source", "a"]
    arc = open_archive(db)
    try:
        [run] = arc.runs()
    finally:
        arc.close()
    assert run["counts"]["mode"] == mode
    assert run["trigger"] == "run-now"


def test_crawl_counts_reach_the_run_history(db, config, plan):
    """The light crawl's new items (written by the crawl into its run row) survive the scheduler's finish."""
    plan(sources={"a": {"reports_found": 30, "pages": 5, "new_reports": 2}},
         run_counts={"mode": "light", "new_items": 3, "known_items": 28, "pages": 5})
    outcome = scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="weekly-season", mode="light"))
    assert outcome.status == "ok", outcome
    arc = open_archive(db)
    try:
        [run] = arc.runs()
    finally:
        arc.close()
    counts = run["counts"]
    assert counts["mode"] == "light"
    assert counts["crawl_mode"] == "light"
    assert counts["new_items"] == 3
    assert counts["known_items"] == 28
    assert counts["new_reports"] == 2
    assert counts["job"] == "weekly-season"
