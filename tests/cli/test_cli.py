"""The command line as a user meets it: the bad-input corpus, exit codes, no tracebacks, store unchanged."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from corpus import BAD_CORPUS, corpus_layer

from gridgov.cli import main
from gridgov.plans.imports import import_file
from gridgov.store import open_store

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = BAD_CORPUS


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["gridgov", *argv]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def seeded_url(store_url: str) -> str:
    """A store holding the corpus's reference wards and grids (see tests/data/bad/README.md)."""
    with open_store(store_url, create=True) as store:
        import_file(store, "wards", DATA / "good" / "wards.geojson", actor="test")
        import_file(store, "grids", DATA / "good" / "grids.geojson", actor="test")
    return store_url


def test_corpus_is_large_enough():
    assert len(BAD) >= 30


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_every_bad_file_exits_2_with_a_clear_message_and_changes_nothing(path, seeded_url, fingerprint, capsys):
    with open_store(seeded_url) as store:
        before = fingerprint(store)
    code, out, err = _run(["--db", seeded_url, "import", corpus_layer(path), str(path)], capsys)
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert path.name in err  # the message names the file …
    assert "未写入任何数据" in err and "nothing was written" in err  # … in Chinese and English
    with open_store(seeded_url) as store:
        assert fingerprint(store) == before


def test_a_very_large_file_with_one_bad_row_at_the_end(tmp_path, seeded_url, fingerprint, capsys):
    path = tmp_path / "劳模名册_大.csv"
    rows = 100_000
    with open(path, "w", encoding="gb18030", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["编号", "姓名", "电话", "居住街道", "经度", "纬度", "承担能力"])
        for i in range(rows):
            phone = "1380000" + f"{i % 10000:04d}" if i < rows - 1 else "12345"
            out.writerow([f"LM{i:06d}", f"劳模{i}", phone, "410802001", 113.205, 35.205, 2])
    with open_store(seeded_url) as store:
        before = fingerprint(store)
    code, _out, err = _run(["--db", seeded_url, "import", "workers", str(path)], capsys)
    assert code == 2
    assert f"{rows + 1}" in err and "电话" in err  # the last data row is spreadsheet row 100,001
    with open_store(seeded_url) as store:
        assert fingerprint(store) == before


def test_real_process_prints_no_traceback(tmp_path):
    db = tmp_path / "s.gpkg"
    cmd = [sys.executable, "-m", "gridgov.cli", "--db", str(db), "import", "workers", str(DATA / "bad" / "junk.xlsx"),
           "--dry-run"]  # the store does not exist: a real import would be refused before reading the file
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "junk.xlsx" in done.stderr


@pytest.mark.parametrize(
    "argv, code, text",
    [
        (["status"], 2, "gridgov init"),  # no store yet
        (["--db", "x.sqlite", "init"], 2, ".gpkg"),
        (["plan", "publish", "99"], 2, "99"),
        (["worker", "retire", "nobody"], 2, "nobody"),
        (["worker", "unavailable", "nobody", "--from", "2026-13-01"], 2, "write 2026-12-01"),
        (["worker", "capacity", "nobody", "abc"], 2, "capacity must be a number above 0"),
        (["solve", "--ward", "999999999"], 2, "999999999"),
    ],
)
def test_user_errors_exit_2_without_traceback(argv, code, text, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if argv[0] != "status" and "x.sqlite" not in argv:
        with open_store(str(tmp_path / "gridgov.gpkg"), create=True) as store:
            import_file(store, "wards", DATA / "good" / "wards.geojson", actor="test")
    got, out, err = _run(argv, capsys)
    assert got == code, out + err
    assert text in err and "Traceback" not in err


def test_an_unknown_crs_is_a_clear_error(seeded_url, fingerprint, capsys):
    with open_store(seeded_url) as store:
        before = fingerprint(store)
    code, _out, err = _run(["--db", seeded_url, "import", "wards", str(DATA / "good" / "wards.geojson"),
                            "--crs", "99999"], capsys)
    assert code == 2 and "--crs" in err and "99999" in err and "Traceback" not in err
    with open_store(seeded_url) as store:
        assert fingerprint(store) == before


def test_worker_update_changes_details_on_the_ledger_and_refuses_bad_input(seeded_url, capsys, fingerprint):
    """The same update as the web page's, from the command line."""
    city = seeded_url
    with open_store(city) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
    code, out, _ = _run(["--db", city, "worker", "update", "W001", "--phone", "13712345678"], capsys)
    assert code == 0 and "phone" in out
    with open_store(city) as store:
        assert store.load("workers", where={"worker_id": "W001"}).iloc[0]["phone"] == "13712345678"
        entry = store.load("ledger").iloc[-1]
        assert entry["action"] == "worker.update" and entry["subject"] == "W001"
        assert set(entry["after"]) == {"phone"}
        before = fingerprint(store)
    for argv, text in ((["worker", "update", "W001"], "nothing to change"),
                       (["worker", "update", "W001", "--lon", "113.2"], "lon and lat"),
                       (["worker", "update", "W001", "--home-ward", "999999999"], "ward code “999999999” is unknown"),
                       (["worker", "update", "nobody", "--phone", "1"], "nobody")):
        code, out, err = _run(["--db", city, *argv], capsys)
        assert code == 2 and text in " ".join((out + err).split()) and "Traceback" not in out + err
    with open_store(city) as store:
        assert fingerprint(store) == before


def test_solve_prints_a_short_bilingual_summary(seeded_url, capsys):
    """The plan's per-territory table goes to the store, not the terminal: one row with its count."""
    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
    code, out, err = _run(["--db", seeded_url, "solve", "--time-limit", "2"], capsys)
    assert code == 0, err
    assert "上岗劳模（本次求解街道）" in out and "求解状态 statuses" in out and "片区 territories" in out
    assert "'ward'" not in out and "{" not in out  # no raw dicts
    assert len(out.splitlines()) < 40
    code, out, _ = _run(["--db", seeded_url, "plan", "list"], capsys)
    assert code == 0 and "草稿" in out and "…" not in out  # whole values in an 80-column console
    with open_store(seeded_url) as store:
        created = store.rows("plans")[0]["created_at"]
    beijing = created.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert beijing in out  # Beijing time, not the stored UTC


def test_plan_export_writes_the_ledger_workbook_and_refuses_bad_input(seeded_url, tmp_path, capsys):
    from openpyxl import load_workbook

    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
        wards = sorted(store.load("wards")["code"])
        grids = store.load("grids")
    code, out, err = _run(["--db", seeded_url, "plan", "export", str(tmp_path / "none.xlsx")], capsys)
    assert code == 2 and "no plan is published" in out + err and not (tmp_path / "none.xlsx").exists()
    assert _run(["--db", seeded_url, "solve", "--time-limit", "2"], capsys)[0] == 0
    assert _run(["--db", seeded_url, "plan", "publish", "1"], capsys)[0] == 0
    path = tmp_path / "台账.xlsx"
    code, out, _ = _run(["--db", seeded_url, "plan", "export", str(path), "--ward", wards[0]], capsys)
    assert code == 0
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("街道代码", "街道名称", "网格编码")
    # Printed: the header on every page, and which plan it is in the footer.
    assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.orientation == "landscape"
    assert sheet.oddFooter.left.text.startswith("方案 1（已发布）· 导出于 ")
    assert sorted(r[2] for r in rows[1:]) == sorted(grids.loc[grids["ward_code"] == wards[0], "code"])
    before = path.read_bytes()
    for argv, text in ((["--ward", "999999999"], "unknown ward codes: 999999999"),
                       (["--plan", "99"], "no plan with id 99")):
        code, out, err = _run(["--db", seeded_url, "plan", "export", str(path), *argv], capsys)
        assert code == 2 and text in out + err and "Traceback" not in out + err
    code, out, err = _run(["--db", seeded_url, "plan", "export", str(tmp_path / "x.csv")], capsys)
    assert code == 2 and ".xlsx only" in out + err
    assert path.read_bytes() == before  # a refused export leaves the earlier file as it was


def test_publishing_an_out_of_date_draft_needs_force_and_says_what_to_re_solve(seeded_url, capsys):
    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
        worker = sorted(store.load("workers")["worker_id"])[0]
    db = ["--db", seeded_url]
    assert _run([*db, "solve", "--time-limit", "2"], capsys)[0] == 0
    assert _run([*db, "plan", "publish", "1"], capsys)[0] == 0
    assert _run([*db, "solve", "--time-limit", "2"], capsys)[0] == 0  # plan 2, solved from plan 1
    assert _run([*db, "worker", "retire", worker], capsys)[0] == 0
    assert _run([*db, "solve", "--changed", "--time-limit", "2"], capsys)[0] == 0  # plan 3, from plan 1
    code, out, _ = _run([*db, "plan", "diff", "1", "3"], capsys)
    with open_store(seeded_url) as store:
        from gridgov.plans.versions import diff_plans

        moves = diff_plans(store, 1, 3)
        names = dict(zip(store.load("workers")["worker_id"], store.load("workers")["name"]))
    assert code == 0 and moves and all(names[m.before] in out for m in moves if m.before)  # names, not ids only
    assert _run([*db, "plan", "publish", "3"], capsys)[0] == 0
    code, out, err = _run([*db, "plan", "publish", "2"], capsys)
    assert code == 2 and "plan 2 was solved from plan 1, but plan 3 is published now" in out + err
    assert "Traceback" not in out + err
    code, out, _ = _run([*db, "plan", "publish", "2", "--force"], capsys)
    assert code == 0 and "gridgov solve --changed" in out  # the retired worker is back in plan 2


def test_a_re_solve_that_moves_no_one_stores_no_draft(seeded_url, capsys):
    from gridgov.plans.versions import plan_assignment

    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
    db = ["--db", seeded_url]
    assert _run([*db, "solve", "--time-limit", "2"], capsys)[0] == 0
    assert _run([*db, "plan", "publish", "1"], capsys)[0] == 0
    with open_store(seeded_url) as store:
        held = plan_assignment(store, 1)
    assert None not in held.values()  # all covered: more capacity moves no one (moves come before cost)
    assert _run([*db, "worker", "capacity", sorted(held.values())[0], "6"], capsys)[0] == 0
    code, out, err = _run([*db, "--lang", "en", "solve", "--changed", "--time-limit", "2"], capsys)
    text = " ".join((out + err).split())
    assert code == 0 and "published plan 1 unchanged; no draft stored" in text
    with open_store(seeded_url) as store:
        assert len(store.rows("plans")) == 1 and store.rows("ledger")[-1]["action"] == "plan.confirm"
    code, out, err = _run([*db, "--lang", "en", "solve", "--changed", "--time-limit", "2"], capsys)
    assert code == 0 and "nothing to re-solve" in out + err


def test_worker_remove_and_restore(seeded_url, capsys, fingerprint):
    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
        worker = sorted(store.load("workers")["worker_id"])[0]
    db = ["--db", seeded_url, "--lang", "en"]
    code, out, err = _run([*db, "worker", "remove", worker], capsys)
    assert code == 0 and f"gridgov worker restore {worker}" in " ".join((out + err).split())
    assert _run([*db, "worker", "restore", worker], capsys)[0] == 0
    assert _run([*db, "solve", "--time-limit", "2"], capsys)[0] == 0
    assert _run([*db, "plan", "publish", "1"], capsys)[0] == 0
    with open_store(seeded_url) as store:
        held = sorted(w for w in store.load("assignments")["worker_id"] if isinstance(w, str))[0]
        before = fingerprint(store)
    code, out, err = _run([*db, "worker", "remove", held], capsys)
    text = " ".join((out + err).split())
    assert code == 2 and "retire them instead" in text and "Traceback" not in text
    with open_store(seeded_url) as store:
        assert fingerprint(store) == before


def test_a_renumbered_grid_through_the_cli(seeded_url, tmp_path, capsys):
    import geopandas as gpd

    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
        grids = store.load("grids")
    ward = sorted(grids["ward_code"])[0]
    mine = grids[grids["ward_code"] == ward].copy()
    old_code = sorted(mine["code"])[0]
    new_code = old_code[:-3] + "999"
    mine["code"] = mine["code"].replace(old_code, new_code)
    path = tmp_path / "renumbered.geojson"
    gpd.GeoDataFrame(mine[["code", "ward_code", "households", "geometry"]], crs=grids.crs).to_file(path, driver="GeoJSON")
    db = ["--db", seeded_url, "--lang", "en"]
    assert _run([*db, "solve", "--time-limit", "2"], capsys)[0] == 0
    assert _run([*db, "plan", "publish", "1"], capsys)[0] == 0
    code, out, err = _run([*db, "import", "grids", str(path)], capsys)
    assert code == 2 and "--replace" in " ".join((out + err).split())
    code, out, err = _run([*db, "import", "grids", str(path), "--replace"], capsys)
    assert code == 0 and old_code in out
    assert _run([*db, "solve", "--changed", "--time-limit", "2"], capsys)[0] == 0
    code, out, _ = _run([*db, "plan", "diff", "1", "2"], capsys)
    line = next(x for x in out.splitlines() if old_code in x)
    assert code == 0 and "网格已撤销" in line and ward in line


def test_demo_refuses_a_store_holding_imported_data(seeded_url, tmp_path, capsys, fingerprint):
    with open_store(seeded_url) as store:
        before = fingerprint(store)
    code, out, err = _run(["--db", seeded_url, "demo", "--scale", "0.02", "--out", str(tmp_path / "out")], capsys)
    text = " ".join((out + err).split())  # the console wraps long lines
    assert code == 2 and "that the demo would replace" in text and "--force" in text
    assert "Traceback" not in out + err and not (tmp_path / "out").exists()
    with open_store(seeded_url) as store:
        assert fingerprint(store) == before


def test_dry_run_import_into_a_missing_store_leaves_no_file(tmp_path, capsys):
    """A mistyped --db with --dry-run must not create a store (the real import creates one)."""
    missing = tmp_path / "mistyped.gpkg"
    code, out, err = _run(["--db", str(missing), "import", "wards", str(DATA / "good" / "wards.geojson"), "--dry-run"],
                          capsys)
    assert code == 0 and "试运行" in out and not missing.exists()
    assert _run(["--db", str(missing), "import", "wards", str(DATA / "good" / "wards.geojson")], capsys)[0] == 0
    assert missing.exists()


def test_export_of_an_unknown_ward_is_refused_and_geojson_is_named_by_its_layer(seeded_url, tmp_path, capsys):
    import json

    path = tmp_path / "grids.geojson"
    code, out, err = _run(["--db", seeded_url, "export", "grids", str(path), "--ward", "999"], capsys)
    assert code == 2 and "unknown ward codes: 999" in out + err and not path.exists()
    assert _run(["--db", seeded_url, "export", "grids", str(path)], capsys)[0] == 0
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == "grids"  # not the temporary file's name


def test_option_values_are_checked(seeded_url, capsys):
    code, out, err = _run(["--lang", "fr", "status"], capsys)
    assert code == 2 and "fr" in out + err  # typer names the allowed values
    code, out, err = _run(["--db", seeded_url, "solve", "--ward-rule", "999=one"], capsys)
    assert code == 2 and "unknown ward codes: 999" in " ".join((out + err).split())
    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
        ward = sorted(store.load("wards")["code"])[0]
    code, out, err = _run(["--db", seeded_url, "solve", "--ward-rule", f"{ward}=ONE", "--time-limit", "2"], capsys)
    assert code == 0, out + err


def test_retiring_twice_says_nothing_changed(seeded_url, capsys):
    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
    assert "W001 retired;" in _run(["--lang", "en", "--db", seeded_url, "worker", "retire", "W001"], capsys)[1]
    code, out, _ = _run(["--lang", "en", "--db", seeded_url, "worker", "retire", "W001"], capsys)
    assert code == 0 and "had already retired" in out
    code, out, err = _run(["--lang", "en", "--db", seeded_url, "worker", "available", "W001"], capsys)
    said = " ".join((out + err).split())
    assert code == 2 and "left the roster" in said and "(on the command line: gridgov worker available W001 --reinstate)" in said
    code, out, err = _run(["--lang", "zh", "--db", seeded_url, "worker", "available", "W001"], capsys)
    assert "（命令行：gridgovworkeravailableW001--reinstate）" in "".join((out + err).split())
    assert _run(["--db", seeded_url, "worker", "available", "W001", "--reinstate"], capsys)[0] == 0


def test_demo_refuses_a_store_with_an_imported_roster_only(tmp_path, capsys):
    db = str(tmp_path / "roster.gpkg")
    with open_store(db, create=True) as store:
        store.save("wards", [])  # nothing but workers imported, one ledger entry each (worker.add)
    with open_store(db) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
    code, out, err = _run(["--db", db, "demo", "--scale", "0.02", "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "--force" in " ".join((out + err).split())


def test_a_small_english_demo_runs_and_draws_an_english_map(tmp_path, capsys):
    # --scale 0.02 stopped at "物业: only 4 candidate sites for --count 5"; --lang en drew a Chinese map.
    out_dir = tmp_path / "out"
    code, out, err = _run(["--lang", "en", "--db", str(tmp_path / "demo.gpkg"), "demo", "--scale", "0.02",
                           "--out", str(out_dir)], capsys)
    assert code == 0, out + err
    html = (out_dir / "coverage_map.html").read_text(encoding="utf-8")
    assert "<title>Jiaozuo: model workers' grid coverage" in html and (out_dir / "summary.json").exists()


@pytest.mark.parametrize("scale", ["0", "11"])
def test_demo_scale_out_of_range_is_a_user_error(tmp_path, capsys, scale):
    # It was "internal error: ValueError", in English only, as if a bug.
    db = tmp_path / "demo.gpkg"
    code, out, err = _run(["--db", str(db), "demo", "--scale", scale, "--out", str(tmp_path / "out")], capsys)
    said = " ".join((out + err).split())
    assert code == 2 and "--scale 应大于 0、不超过 10" in said and "internal" not in said and "Traceback" not in said
    assert not db.exists()  # refused before a store is created


def test_messages_quoting_brackets_print_as_text(tmp_path, capsys):
    """A file name like [b]劳模.csv or a cell holding [/x] is text, not console markup (the first
    printed bold without its brackets, the second was an internal error)."""
    import shutil

    db = str(tmp_path / "s.gpkg")
    with open_store(db, create=True) as store:
        import_file(store, "wards", DATA / "good" / "wards.geojson", actor="test")
    odd = tmp_path / "[b]劳模.csv"
    shutil.copy(DATA / "good" / "workers.csv", odd)
    code, out, err = _run(["--db", db, "import", "workers", str(odd), "--dry-run"], capsys)
    assert code == 0 and "[b]劳模.csv" in out, out + err
    assert _run(["--db", db, "import", "workers", str(DATA / "good" / "workers.csv")], capsys)[0] == 0
    odd_value = tmp_path / "employer.csv"
    odd_value.write_text("编号,姓名,所在单位\nW001,张卫国,[/x]\n", encoding="utf-8")
    code, out, err = _run(["--db", db, "import", "workers", str(odd_value)], capsys)  # the report quotes it
    assert code == 0 and "[/x]" in out and "internal error" not in out + err, out + err


def test_an_import_into_a_store_that_does_not_exist_is_refused_unless_it_starts_one(tmp_path, capsys, monkeypatch):
    """Run from the wrong folder, ``import workers`` put the roster into a new empty
    ./gridgov.gpkg and said nothing of it: refused now; importing wards starts a store and says so."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDGOV_DB", raising=False)
    code, out, err = _run(["--lang", "en", "import", "workers", str(DATA / "good" / "workers.csv")], capsys)
    said = " ".join((out + err).split())
    assert code == 2 and "does not exist" in said and "gridgov import wards" in said and "Traceback" not in said
    assert not (tmp_path / "gridgov.gpkg").exists()
    assert _run(["--lang", "en", "import", "workers", str(DATA / "good" / "workers.csv"), "--dry-run"], capsys)[0] == 0
    assert not (tmp_path / "gridgov.gpkg").exists()
    code, out, err = _run(["--lang", "en", "import", "wards", str(DATA / "good" / "wards.geojson")], capsys)
    assert code == 0 and f"createdanewstore{tmp_path / 'gridgov.gpkg'}" in "".join(out.split())  # lines wrap
    assert _run(["--lang", "en", "import", "workers", str(DATA / "good" / "workers.csv")], capsys)[0] == 0


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("GRIDGOV_API_TOKEN_MINUTES", "8h", "GRIDGOV_API_TOKEN_MINUTES='8h'"),
    ("GRIDGOV_API_TOKEN_MINUTES", "-5", "greater than or equal to 1"),
    ("GRIDGOV_API_JOB_POLL_S", "0", "GRIDGOV_API_JOB_POLL_S"),
    ("GRIDGOV_API_THREADS", "0", "GRIDGOV_API_THREADS"),
    ("GRIDGOV_TIMEZONE", "Asia/Shanghia", "unknown time zone"),
    # A guessable secret let anyone sign an admin's token; the value itself is never echoed.
    ("GRIDGOV_API_SECRET", "hunter2", "GRIDGOV_API_SECRET='***': Value error, too short: at least 32 bytes"),
])
def test_a_bad_setting_is_named_with_exit_2_not_called_an_internal_error(
        variable, value, said, seeded_url, capsys, monkeypatch):
    """A typo in the service's environment was "internal error"; negative or zero values started
    a service where every sign-in expired at once, every request hung, or a core stayed busy."""
    from gridgov.settings import get_settings

    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        code, out, err = _run(["--lang", "en", "--db", seeded_url, "serve", "--port", "1"], capsys)
    finally:
        get_settings.cache_clear()
    text = " ".join((out + err).split())
    assert code == 2 and "bad settings" in text and said in text and "internal error" not in text
    assert variable != "GRIDGOV_API_SECRET" or value not in text


def test_backup_writes_a_store_that_opens_and_says_how_to_restore(seeded_url, tmp_path, capsys, fingerprint):
    if "://" in seeded_url:
        code, out, err = _run(["--lang", "en", "--db", seeded_url, "backup", str(tmp_path / "b.gpkg")], capsys)
        assert code == 2 and "pg_dump" in " ".join((out + err).split())
        return
    code, out, err = _run(["--lang", "en", "--db", seeded_url, "backup", str(tmp_path / "b.gpkg")], capsys)
    assert code == 0 and "restore: stop the service" in " ".join(out.split())
    with open_store(seeded_url) as store, open_store(str(tmp_path / "b.gpkg")) as copy:
        assert fingerprint(copy) == fingerprint(store)


def test_serving_on_a_port_in_use_says_so_before_starting(seeded_url, capsys):
    # It started the application and its job runner, logged "startup complete", then failed to bind.
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        code, out, err = _run(["--lang", "en", "--db", seeded_url, "serve", "--port", str(port)], capsys)
    said = " ".join((out + err).split())
    assert code == 2 and f"port {port} is in use" in said and "serving on" not in said


def test_copies_of_a_private_store_stay_private(tmp_path, capsys):
    # Under umask 022 a store kept at 0600 had backups and pre-upgrade copies any local user could read.
    db = tmp_path / "s.gpkg"
    assert _run(["--db", str(db), "init"], capsys)[0] == 0
    _as_schema_5(str(db))
    db.chmod(0o600)
    assert _run(["--db", str(db), "backup", str(tmp_path / "b.gpkg")], capsys)[0] == 0
    assert _run(["--db", str(db), "status"], capsys)[0] == 0  # upgrades, keeping a copy
    (kept,) = tmp_path.glob("s.schema5-*.gpkg")
    assert oct((tmp_path / "b.gpkg").stat().st_mode & 0o777) == oct(kept.stat().st_mode & 0o777) == "0o600"


def test_copy_leaves_an_older_source_as_it_is(tmp_path, capsys):
    db = tmp_path / "s.gpkg"
    assert _run(["--db", str(db), "init"], capsys)[0] == 0
    _as_schema_5(str(db))
    code, out, err = _run(["--lang", "en", "--db", str(db), "copy", str(tmp_path / "t.gpkg")], capsys)
    assert code == 2 and "older schema version 5" in " ".join((out + err).split())
    with open_store(str(db), upgrade=False) as store:
        assert store.schema_version() == 5


def test_version_names_the_release_and_the_schema(capsys):
    from gridgov import __version__
    from gridgov.store.migrations import SCHEMA_VERSION

    code, out, _ = _run(["--lang", "en", "--version"], capsys)
    assert code == 0 and out.strip() == f"gridgov {__version__} (schema version {SCHEMA_VERSION})"


def _as_schema_5(url: str) -> None:
    """Set a store back to schema version 5 (before users.token_version)."""
    with open_store(url) as store:
        store._execute("ALTER TABLE users DROP COLUMN token_version")
        store._execute("UPDATE gridgov_meta SET value = '5' WHERE key = 'schema_version'")


def test_a_backup_before_an_upgrade_keeps_the_older_schema_and_upgrading_keeps_a_copy(tmp_path, capsys):
    # The copy an admin takes before installing a newer gridgov was upgraded on the way (any
    # command upgraded first), so the older gridgov refused it and there was no way back.
    db = tmp_path / "s.gpkg"
    assert _run(["--db", str(db), "init"], capsys)[0] == 0
    _as_schema_5(str(db))
    code, out, err = _run(["--lang", "en", "--db", str(db), "backup", str(tmp_path / "before.gpkg")], capsys)
    assert code == 0 and "upgraded" not in out + err
    for path in (db, tmp_path / "before.gpkg"):
        with open_store(str(path), upgrade=False) as store:
            assert store.schema_version() == 5
    code, out, err = _run(["--lang", "en", "--db", str(db), "status"], capsys)
    said = " ".join(out.split())
    kept = [p for p in tmp_path.glob("s.schema5-*.gpkg")]
    assert code == 0 and len(kept) == 1 and "upgraded from version 5" in said and kept[0].name in "".join(out.split())
    with open_store(str(kept[0]), upgrade=False) as old:
        assert old.schema_version() == 5
        assert "token_version" not in [row[1] for row in old._query("PRAGMA table_info(users)")]


def test_backup_into_a_folder_that_does_not_exist_names_the_folder(tmp_path, capsys):
    db = str(tmp_path / "s.gpkg")
    assert _run(["--db", db, "init"], capsys)[0] == 0
    code, out, err = _run(["--lang", "en", "--db", db, "backup", str(tmp_path / "nowhere" / "b.gpkg")], capsys)
    said = " ".join((out + err).split())
    assert code == 2 and "nowhere" in said and "does not exist" in said


@pytest.mark.parametrize(("argv", "zh", "en"), [
    (["worker", "capacity"], "缺少参数 WORKER_ID", "Missing argument"),
    (["import"], "缺少参数 LAYER（可选：wards、grids、workers、incidents、sites）", "Missing argument 'layer'. Choose from: wards,"),
    (["import", "wardz", "x.csv"], "“wardz”不是可选值（可选：wards、grids", "'wardz' is not one of"),
    (["solve", "--time-limit", "x"], "参数 --time-limit 的值无效：应为数字", "valid number"),
    (["plan", "diff", "a", "b"], "应为整数", "valid integer"),
    (["solve", "--bogus"], "没有选项 --bogus（用 gridgov solve --help 查看用法）", "No such option: --bogus"),
    (["worker", "capacity", "LM0002", "-1"], "“-1”被当作选项", "was read as an option"),
    (["status", "--lang", "en"], "--lang 要写在子命令之前，如 gridgov --lang en status", "--lang goes before the subcommand"),
    (["plan", "lst"], "没有命令 lst（相近的命令：list）", "No such command 'lst'"),
    (["nosuch"], "没有命令 nosuch", "No such command 'nosuch'"),  # before the callback reads --lang
])
def test_usage_errors_are_in_the_chosen_language(argv, zh, en, capsys):
    """click printed its usage errors in English only, whatever --lang said."""
    for lang, wanted, other in (("zh", zh, en), ("en", en, zh)):
        code, out, err = _run(["--lang", lang, *argv], capsys)
        said = " ".join((out + err).split())
        assert code == 2 and wanted in said and other not in said and "Traceback" not in said, said


def test_tables_speak_the_chosen_language(seeded_url, capsys):
    """Table titles, headers and summary labels were bilingual whatever --lang said."""
    code, out, _ = _run(["--lang", "en", "--db", seeded_url, "status"], capsys)
    assert code == 0 and "layer" in out and "rows" in out and "schema version" in " ".join(out.split())
    assert not re.search(r"[\u4e00-\u9fff]", out)
    code, out, _ = _run(["--lang", "zh", "--db", seeded_url, "status"], capsys)
    assert code == 0 and "图层" in out and "条数" in out and "layer" not in out and "rows" not in out
    with open_store(seeded_url) as store:
        import_file(store, "workers", DATA / "good" / "workers.csv", actor="test")
    code, out, _ = _run(["--lang", "en", "--db", seeded_url, "solve", "--time-limit", "2"], capsys)
    assert code == 0 and "wards solved" in out and "求解街道" not in out and "网格" not in out
    code, out, _ = _run(["--lang", "zh", "--db", seeded_url, "plan", "list"], capsys)
    assert code == 0 and "编号" in out and "status" not in out and "kind" not in out


def test_plan_list_shows_the_latest_and_counts_the_rest(seeded_url, capsys):
    """After a year of weekly plans the list ran to 61 lines."""
    from gridgov.plans.versions import save_plan

    with open_store(seeded_url) as store:
        ids = [save_plan(store, kind="grid", rule="one", params={}, scope=None, assignment={}, reasons={},
                         solver_status="optimal", objective=0.0, bound=0.0, summary={}, actor="t") for _ in range(5)]
    code, out, _ = _run(["--lang", "en", "--db", seeded_url, "plan", "list", "--limit", "2"], capsys)
    def listed(text: str) -> list[str]:
        return [line.split()[0] for line in text.splitlines() if line.split()[1:2] == ["grid"]]

    assert code == 0 and listed(out) == [str(i) for i in ids[-2:]] and "3 older plans not listed" in " ".join(out.split())
    code, out, _ = _run(["--lang", "en", "--db", seeded_url, "plan", "list", "--limit", "0"], capsys)
    assert listed(out) == [str(i) for i in ids]
