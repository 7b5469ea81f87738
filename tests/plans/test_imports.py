"""The import use case: all-or-nothing upserts, ledger entries, dry runs, round trips through every export format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from gridgov.errors import ValidationError
from gridgov.plans import imports
from gridgov.plans.imports import ImportReport, export_layer, import_file
from gridgov.store import SqlStore

GOOD = Path(__file__).parents[1] / "data" / "good"
Fingerprint = Callable[[SqlStore], str]


@pytest.fixture
def seeded(store: SqlStore) -> SqlStore:
    import_file(store, "wards", GOOD / "wards.geojson")
    import_file(store, "grids", GOOD / "grids.geojson")
    return store


def _rows(store: SqlStore, layer: str) -> list[dict]:
    loaded = store.load(layer)
    frame = pd.DataFrame(loaded)
    if "geometry" in frame:
        frame["geometry"] = loaded.geometry.to_wkt(rounding_precision=9)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.mark.parametrize(("layer", "source", "suffix"), [
    ("wards", "wards.geojson", ".gpkg"),
    ("grids", "grids.geojson", ".geojson"),
    ("grids", "grids.geojson", ".gpkg"),
    ("workers", "workers.csv", ".xlsx"),
    ("workers", "workers.csv", ".csv"),
    ("workers", "workers.csv", ".geojson"),
    ("incidents", "incidents.csv", ".xlsx"),
    ("sites", "sites.geojson", ".xlsx"),
    ("sites", "sites.geojson", ".gpkg"),
    ("sites", "sites.geojson", ".geojson"),  # list fields come back from GeoJSON as numpy arrays
    ("incidents", "incidents.csv", ".geojson"),
])
def test_import_export_import_round_trips(seeded: SqlStore, tmp_path: Path, layer: str, source: str, suffix: str) -> None:
    if layer != "wards":
        import_file(seeded, layer, GOOD / source)
    stored = _rows(seeded, layer)
    out = tmp_path / f"{layer}{suffix}"
    assert export_layer(seeded, layer, out) == len(stored)
    report = import_file(seeded, layer, out)
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (len(stored), 0, 0, len(stored))
    seeded.delete(layer)
    import_file(seeded, layer, out)
    assert _rows(seeded, layer) == stored


def test_dry_run_writes_nothing(seeded: SqlStore, fingerprint: Fingerprint) -> None:
    before = fingerprint(seeded)
    report = import_file(seeded, "workers", GOOD / "workers.csv", dry_run=True)
    assert (report.rows, report.inserted, report.dry_run) == (3, 3, True)
    assert fingerprint(seeded) == before
    assert "试运行" in report.render() and "dry run" in report.render("en")


def test_worker_import_writes_one_ledger_entry_per_roster_change(seeded: SqlStore, tmp_path: Path) -> None:
    import_file(seeded, "workers", GOOD / "workers.csv", actor="王科长")
    ledger = seeded.load("ledger")
    added = ledger[ledger["action"] == "worker.add"]
    assert sorted(added["subject"]) == ["W001", "W002", "W003"] and set(added["actor"]) == {"王科长"}
    assert added.iloc[0]["after"]["name"] == "张卫国"

    changed = tmp_path / "workers.csv"
    changed.write_bytes((GOOD / "workers.csv").read_bytes().replace(b"0391-2345678", b"13903910000"))
    report = import_file(seeded, "workers", changed)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    update = seeded.load("ledger", where={"action": "worker.update"})
    assert len(update) == 1 and update.iloc[0]["subject"] == "W002"
    assert update.iloc[0]["before"] == {"phone": "0391-2345678"}
    assert update.iloc[0]["after"] == {"phone": "13903910000"}


def test_other_layers_write_one_import_entry(seeded: SqlStore) -> None:
    entries = seeded.load("ledger", where={"action": "import"})
    assert entries["subject"].tolist() == ["wards:wards.geojson", "grids:grids.geojson"]
    assert entries.iloc[1]["after"]["inserted"] == 3


def test_each_changed_boundary_is_on_the_ledger_and_an_unchanged_file_is_not(seeded: SqlStore, tmp_path: Path) -> None:
    """The ledger said "1 updated" for a grid shrunk by 40 m, not which grid nor its old
    boundary; an export imported back unchanged added an entry each time."""
    import geopandas as gpd
    from shapely import affinity

    before = seeded.count("ledger")
    import_file(seeded, "grids", GOOD / "grids.geojson")  # the same file again
    assert seeded.count("ledger") == before
    grids = gpd.read_file(GOOD / "grids.geojson")
    old = grids.geometry.iloc[0]
    grids.loc[0, "geometry"] = affinity.scale(old, 0.9, 0.9)
    grids.loc[0, "户数"] = 280
    grids.to_file(tmp_path / "edited.geojson", driver="GeoJSON")
    import_file(seeded, "grids", tmp_path / "edited.geojson")
    entry = seeded.rows("ledger", where={"action": "grid.update"})
    assert len(entry) == 1 and entry[0]["subject"] == grids.loc[0, "网格编码"]
    assert entry[0]["before"]["households"] == 300 and entry[0]["after"]["households"] == 280
    assert entry[0]["before"]["geometry"].startswith("MULTIPOLYGON") and entry[0]["after"]["geometry"] != entry[0]["before"]["geometry"]
    assert seeded.count("ledger", where={"action": "import"}) == 3


def test_columns_the_file_lacks_keep_their_stored_values(seeded: SqlStore, tmp_path: Path) -> None:
    import_file(seeded, "workers", GOOD / "workers.csv")
    seeded.update("workers", {"worker_id": "W001"}, {"status": "retired"})
    short = tmp_path / "phones.csv"
    short.write_text("编号,姓名,手机,经度,纬度\nW001,张卫国,13800000000,113.2021,35.2032\n", encoding="utf-8")
    assert import_file(seeded, "workers", short).updated == 1
    row = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
    assert (row["phone"], row["status"], row["employer"]) == ("13800000000", "retired", "焦作煤业集团")


def test_an_error_in_row_500_of_a_big_file_writes_nothing(seeded: SqlStore, fingerprint: Fingerprint,
                                                          tmp_path: Path) -> None:
    lines = ["编号,姓名,手机,行业,经度,纬度"]
    for i in range(2, 1202):
        mobile = "1380391" if i == 500 else f"138{i:08d}"
        lines.append(f"W{i:05d},劳模{i},{mobile},企业,{113.2 + i * 1e-5:.5f},35.205")
    big = tmp_path / "big.csv"
    big.write_text("\n".join(lines), encoding="utf-8")
    before = fingerprint(seeded)
    with pytest.raises(ValidationError) as info:
        import_file(seeded, "workers", big)
    assert [(p.where, p.field) for p in info.value.problems] == [("第 500 行", "手机")]
    assert fingerprint(seeded) == before


def test_a_failure_while_writing_rolls_everything_back(seeded: SqlStore, fingerprint: Fingerprint,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    before = fingerprint(seeded)
    calls = 0

    def failing_record(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    original = imports.record
    monkeypatch.setattr(imports, "record", failing_record)
    with pytest.raises(RuntimeError):
        import_file(seeded, "workers", GOOD / "workers.csv")
    assert fingerprint(seeded) == before


def test_report_renders_in_both_languages() -> None:
    report = ImportReport("grids", "g.geojson", 5, 3, 1, 1)
    assert report.render() == "g.geojson：读取网格 5 条；新增 3，更新 1，未变 1"
    assert report.render("en") == "g.geojson: 5 grids read; 3 added, 1 updated, 1 unchanged"


def test_an_old_roster_export_says_what_it_changes_and_what_it_undoes(seeded: SqlStore, tmp_path: Path) -> None:
    """Export, then a retirement on the roster, then the old file imported again: the report lists
    each change and warns that it sets the retirement back (the ledger keeps both)."""
    from gridgov.plans.roster import retire_worker

    import_file(seeded, "workers", GOOD / "workers.csv")
    old = tmp_path / "roster.xlsx"
    export_layer(seeded, "workers", old)
    retire_worker(seeded, "W001", actor="办公室")
    report = import_file(seeded, "workers", old, dry_run=True)
    assert report.updated == 1
    texts = [n.render("en") for n in report.notices]
    assert any("W001 will change: status retired → active" in t for t in texts)
    assert any("W001's status was set to retired by a roster change" in t and "sets it back to active" in t
               for t in texts)
    assert "W001 将更新：状态 退出 → 在岗" in report.render("zh")


def test_an_old_roster_export_is_refused_unless_forced(seeded: SqlStore, tmp_path: Path, fingerprint) -> None:
    """A year's old sheet imported for real set back 364 workers (retired ones active again) with
    only warnings printed after the write: now nothing is written unless --force."""
    from gridgov.plans.roster import retire_worker, set_capacity

    import_file(seeded, "workers", GOOD / "workers.csv")
    old = tmp_path / "roster.xlsx"
    export_layer(seeded, "workers", old)
    retire_worker(seeded, "W001", actor="办公室")
    set_capacity(seeded, "W002", 3.0, actor="办公室")
    before = fingerprint(seeded)
    dry = import_file(seeded, "workers", old, dry_run=True)
    assert dry.notices[0].message_en.startswith("the real import will be refused: the file sets back 2 roster changes")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", old)
    assert fingerprint(seeded) == before
    assert [p.field for p in err.value.problems] == ["状态", "承担能力"]
    texts = [p.render("en") for p in err.value.problems]
    assert len(texts) == 2 and "W001's status was set to retired" in texts[0] and "W002's capacity" in texts[1]
    assert "--force" in err.value.problems[0].fix_en
    report = import_file(seeded, "workers", old, force=True)
    assert report.updated == 2 and any("set it back to active" in n.render("en") for n in report.notices)
    assert seeded.load("workers", where={"worker_id": "W001"}).iloc[0]["status"] == "active"


def test_a_roster_without_coordinates_updates_stored_workers_and_keeps_their_homes(seeded: SqlStore,
                                                                                     tmp_path: Path) -> None:
    """Union rosters carry names and phones, not coordinates: enough to update, not to add."""
    import_file(seeded, "workers", GOOD / "workers.csv")
    homes = dict(zip(seeded.load("workers")["worker_id"], seeded.load("workers").geometry))
    phones = tmp_path / "phones.csv"
    phones.write_text("编号,姓名,电话\nW001,张卫国,13912345678\n", encoding="utf-8")
    report = import_file(seeded, "workers", phones)
    assert (report.updated, report.inserted) == (1, 0)
    assert "W001 changed: phone 13803911234 → 13912345678" in report.render("en")
    stored = seeded.load("workers").set_index("worker_id")
    assert stored.loc["W001", "phone"] == "13912345678" and stored.geometry["W001"].equals(homes["W001"])
    new = tmp_path / "new.csv"
    new.write_text("编号,姓名,电话\nW001,张卫国,13912345678\nNW9,新人,13900000000\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", new)
    (problem,) = err.value.problems
    assert problem.where == "第 3 行" and "NW9" in problem.message_en and "new" in problem.message_en


def test_a_newer_value_in_a_file_is_no_undo(seeded: SqlStore, tmp_path: Path) -> None:
    from gridgov.plans.roster import set_capacity

    import_file(seeded, "workers", GOOD / "workers.csv")
    set_capacity(seeded, "W001", 3.0, actor="办公室")
    newer = tmp_path / "newer.csv"
    newer.write_text("编号,姓名,手机,承担网格数\nW001,张卫国,13912345678,4\n", encoding="utf-8")
    report = import_file(seeded, "workers", newer, dry_run=True)
    text = report.render("en")
    assert "W001 will change:" in text and "capacity 3.0 → 4.0" in text and "back" not in text


def test_a_blank_ward_in_a_roster_without_coordinates_keeps_the_stored_one(seeded: SqlStore, tmp_path: Path) -> None:
    import_file(seeded, "workers", GOOD / "workers.csv")
    ward = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]["home_ward"]
    phones = tmp_path / "phones.csv"
    phones.write_text("编号,姓名,电话,居住街道\nW001,张卫国,13912345678,\n", encoding="utf-8")
    import_file(seeded, "workers", phones)
    row = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
    assert row["home_ward"] == ward and row["phone"] == "13912345678"


def test_a_blank_cell_keeps_the_stored_value_and_says_so(seeded: SqlStore, tmp_path: Path) -> None:
    """A 联系方式更新表 leaves unchanged cells empty: the stored employer must survive it."""
    import_file(seeded, "workers", GOOD / "workers.csv")
    stored = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
    assert isinstance(stored["employer"], str) and stored["employer"]
    update = tmp_path / "update.csv"
    update.write_text("编号,姓名,手机号码,工作单位\nW001,张卫国,0391-3512345,\n", encoding="gb18030")
    report = import_file(seeded, "workers", update)
    row = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
    assert row["employer"] == stored["employer"] and row["phone"] == "0391-3512345"
    assert "1 blank cells kept their stored values" in report.render("en")
    # A new absence with no end is open-ended, not given the old absence's end.
    absence = tmp_path / "absence.csv"
    absence.write_text("编号,姓名,暂停开始,暂停结束\nW001,张卫国,2026-01-01,2026-01-31\n", encoding="utf-8")
    import_file(seeded, "workers", absence)
    absence.write_text("编号,姓名,暂停开始,暂停结束\nW001,张卫国,2026-03-01,\n", encoding="utf-8")
    import_file(seeded, "workers", absence)
    row = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
    assert str(row["unavailable_from"])[:10] == "2026-03-01" and pd.isna(row["unavailable_to"])


def test_a_new_worker_who_looks_like_a_stored_one_is_pointed_out(seeded: SqlStore, tmp_path: Path) -> None:
    import_file(seeded, "workers", GOOD / "workers.csv")
    stored = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
    twin = tmp_path / "twin.csv"
    twin.write_text("编号,姓名,手机,所在单位,居住街道,经度,纬度\n"
                    f"W901,{stored['name']},{stored['phone']},{stored['employer']},{stored['home_ward']},"
                    f"{stored.geometry.x},{stored.geometry.y}\n", encoding="utf-8")
    report = import_file(seeded, "workers", twin, dry_run=True)
    text = report.render("en")
    assert "new worker W901 has the same phone as W001" in text
    assert "new worker W901 has the same name and employer as W001" not in text  # one notice per twin
    assert report.inserted == 1  # a warning, not a refusal


def test_a_typed_status_sets_the_absence_whole(seeded: SqlStore, tmp_path: Path) -> None:
    """Blank dates beside a typed status are the absence (none, or open-ended), not 'keep the old'."""
    import_file(seeded, "workers", GOOD / "workers.csv")
    booked = tmp_path / "booked.csv"
    booked.write_text("编号,姓名,状态,暂停开始,暂停结束\nW001,张卫国,暂不可用,2026-11-20,2026-12-31\n", encoding="utf-8")
    import_file(seeded, "workers", booked)

    def absence() -> tuple:
        row = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
        return row["status"], *(None if pd.isna(row[k]) else str(row[k])[:10] for k in ("unavailable_from", "unavailable_to"))

    back = tmp_path / "back.csv"
    back.write_text("编号,姓名,状态,暂停开始,暂停结束\nW001,张卫国,在岗,,\n", encoding="utf-8")
    import_file(seeded, "workers", back)
    assert absence() == ("active", None, None)
    away = tmp_path / "away.csv"  # from 在岗 to 暂不可用 with no dates: away until further notice
    away.write_text("编号,姓名,状态,暂停开始,暂停结束\nW001,张卫国,暂不可用,,\n", encoding="utf-8")
    import_file(seeded, "workers", away)
    assert absence() == ("unavailable", None, None)
    import_file(seeded, "workers", booked)
    only_status = tmp_path / "status.csv"
    only_status.write_text("编号,姓名,状态\nW001,张卫国,在岗\n", encoding="utf-8")
    import_file(seeded, "workers", only_status)
    assert absence() == ("active", None, None)
    import_file(seeded, "workers", booked)
    contacts = tmp_path / "contacts.csv"  # a blank status keeps the absence as it was
    contacts.write_text("编号,姓名,状态,暂停开始,暂停结束,手机\nW001,张卫国,,,,13912345678\n", encoding="utf-8")
    import_file(seeded, "workers", contacts)
    assert absence() == ("unavailable", "2026-11-20", "2026-12-31")
    same = tmp_path / "same.csv"  # so does the status typed as it is stored
    same.write_text("编号,姓名,状态,暂停开始,暂停结束\nW001,张卫国,暂不可用,,\n", encoding="utf-8")
    import_file(seeded, "workers", same)
    assert absence() == ("unavailable", "2026-11-20", "2026-12-31")


def test_dates_typed_beside_active_book_an_absence_and_imports_warn_what_the_cli_asks(
        seeded: SqlStore, tmp_path: Path) -> None:
    from gridgov.plans.roster import retire_worker

    import_file(seeded, "workers", GOOD / "workers.csv")
    typed = tmp_path / "typed.csv"  # an export's row: 在岗, with the leave typed in
    typed.write_text("编号,姓名,状态,暂停开始,暂停结束\nW001,张卫国,在岗,2099-12-01,2099-12-20\n", encoding="utf-8")
    import_file(seeded, "workers", typed)
    row = seeded.load("workers", where={"worker_id": "W001"}).iloc[0]
    assert row["status"] == "unavailable" and str(row["unavailable_from"])[:10] == "2099-12-01"
    shorter = tmp_path / "shorter.csv"
    shorter.write_text("编号,姓名,状态,暂停开始,暂停结束\nW001,张卫国,暂不可用,2099-11-01,2099-11-05\n", encoding="utf-8")
    assert "already has an absence from 2099-12-01 to 2099-12-20" in import_file(
        seeded, "workers", shorter, dry_run=True).render("en")
    retire_worker(seeded, "W002", actor="p")
    back = tmp_path / "back.csv"
    back.write_text("编号,姓名,状态,暂停开始,暂停结束\nW002,李秀英,暂不可用,2099-01-01,2099-01-05\n", encoding="utf-8")
    text = import_file(seeded, "workers", back, dry_run=True).render("en")
    assert "W002 had retired" in text and "back on the roster" in text


def test_a_change_committed_while_the_import_was_checked_is_not_written_over(
        seeded: SqlStore, store_url: str, tmp_path: Path, fingerprint: Fingerprint, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are written whole: an import of new phone numbers compared before another office
    retired W001 would store W001 as active again. It writes nothing and says why instead."""
    from gridgov.errors import ChangedMeanwhileError
    from gridgov.plans.roster import retire_worker
    from gridgov.store import open_store

    import_file(seeded, "workers", GOOD / "workers.csv")
    sheet = pd.read_csv(GOOD / "workers.csv", dtype=str)
    sheet["手机"] = ["13900000001", "13900000002", "13900000003"]
    sheet = sheet.drop(columns=["状态"])  # the sheet only brings new phone numbers
    sheet.to_csv(tmp_path / "phones.csv", index=False)
    classify = imports._classify
    after_retirement: list[str] = []

    def retired_meanwhile(*args, **kwargs):
        out = classify(*args, **kwargs)
        other = open_store(store_url)  # another office, its own connection
        try:
            retire_worker(other, "W001", actor="另一街道")
        finally:
            other.close()
        after_retirement.append(fingerprint(seeded))
        return out

    monkeypatch.setattr(imports, "_classify", retired_meanwhile)
    with pytest.raises(ChangedMeanwhileError) as err:
        import_file(seeded, "workers", tmp_path / "phones.csv")
    assert "W001" in str(err.value) and "phones.csv" in str(err.value)
    assert fingerprint(seeded) == after_retirement[0]
    assert seeded.load("workers", where={"worker_id": "W001"}).iloc[0]["status"] == "retired"
    monkeypatch.setattr(imports, "_classify", classify)
    report = import_file(seeded, "workers", tmp_path / "phones.csv")  # again: compared with the new data
    assert report.updated == len(sheet)
    assert seeded.load("workers", where={"worker_id": "W001"}).iloc[0]["status"] == "retired"


def test_coordinates_as_excel_saves_them_are_the_same_place_and_a_real_move_says_how_far(
        seeded: SqlStore, tmp_path: Path) -> None:
    """Excel keeps about 10 significant digits of a coordinate in a CSV: a roster saved back with
    one phone fixed rewrote every home point (1,497 ledger entries, every ward to re-solve)."""
    import_file(seeded, "workers", GOOD / "workers.csv")
    sheet = pd.read_csv(GOOD / "workers.csv", dtype=str)
    sheet["经度"] = ["113.20210004", "113.20719996", "113.2133"]  # 4e-8 degrees: millimetres
    sheet.to_csv(tmp_path / "excel.csv", index=False)
    report = import_file(seeded, "workers", tmp_path / "excel.csv")
    assert (report.updated, report.unchanged) == (0, 3)
    assert seeded.count("ledger", where={"action": "worker.update"}) == 0

    sheet["经度"] = ["113.2071", "113.2072", "113.2133"]  # W001 moves about 455 m east
    sheet.to_csv(tmp_path / "moved.csv", index=False)
    report = import_file(seeded, "workers", tmp_path / "moved.csv", dry_run=True)
    assert report.updated == 1
    said = " ".join(n.render("zh") for n in report.notices)
    assert "住址坐标移动 455 米" in said, said
    assert "home moved 455 m" in " ".join(n.render("en") for n in report.notices)


def test_a_ward_name_two_wards_share_is_taken_with_its_county_before_it(seeded: SqlStore, tmp_path: Path) -> None:
    """Jiaozuo has two 太行街道 (山阳区 410811004, 沁阳市 410882003): the bare name is refused
    (validation cases), the name after its county's is that ward."""
    sheet = pd.read_csv(GOOD / "workers.csv", dtype=str)
    sheet["居住街道"] = ["山阳区太行街道", "沁阳市太行街道", "民生街道"]
    sheet.to_csv(tmp_path / "named.csv", index=False)
    import_file(seeded, "workers", tmp_path / "named.csv")
    homes = dict(zip(*seeded.load("workers")[["worker_id", "home_ward"]].to_numpy().T))
    assert homes == {"W001": "410811004", "W002": "410882003", "W003": "410802001"}


def test_a_geopackage_of_several_layers_is_read_from_the_one_named_like_the_import(seeded: SqlStore, tmp_path: Path) -> None:
    """A QGIS project file with 街道 and 网格: the first layer (the wards) was read as grids, with
    31 misleading problems. The layer named 网格 is read; with no such layer, the import asks for --layer."""
    import geopandas as gpd

    grids = gpd.read_file(GOOD / "grids.geojson")
    wards = gpd.read_file(GOOD / "wards.geojson")
    project = tmp_path / "project.gpkg"
    wards.to_file(project, layer="街道", driver="GPKG")
    grids.to_file(project, layer="网格", driver="GPKG")
    report = import_file(seeded, "grids", project)
    assert (report.rows, report.unchanged) == (len(grids), len(grids))
    other = tmp_path / "other.gpkg"
    wards.to_file(other, layer="a", driver="GPKG")
    grids.to_file(other, layer="b", driver="GPKG")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "grids", other)
    said = err.value.render("en")
    assert "2 layers (a, b)" in said and "--layer" in said
    assert import_file(seeded, "grids", other, layer_name="b").unchanged == len(grids)


def test_an_id_that_lost_its_leading_zeros_in_excel_is_not_a_new_worker(seeded: SqlStore, tmp_path: Path) -> None:
    """0013 became 13 in Excel's General format and was added as a second worker beside 0013."""
    sheet = tmp_path / "roster.csv"
    sheet.write_text("编号,姓名,居住街道,经度,纬度\n0013,李四,410802001,113.2021,35.2032\n", encoding="utf-8")
    import_file(seeded, "workers", sheet)
    sheet.write_text("编号,姓名,所在单位,居住街道,经度,纬度\n13,李四,新单位,410802001,113.2021,35.2032\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", sheet)
    problem = err.value.problems[0]
    assert (problem.where, problem.field) == ("第 2 行", "编号") and "0013" in problem.message and "0013" in problem.fix
    assert seeded.count("workers") == 1


def test_a_changed_honour_is_reported_as_typed_not_as_python(seeded: SqlStore, tmp_path: Path) -> None:
    import_file(seeded, "workers", GOOD / "workers.csv")
    sheet = pd.read_csv(GOOD / "workers.csv", dtype=str)
    sheet.loc[1, "荣誉"] = "全国劳动模范(全国,2020)"
    sheet.to_csv(tmp_path / "honour.csv", index=False)
    said = " ".join(n.render("zh") for n in import_file(seeded, "workers", tmp_path / "honour.csv", dry_run=True).notices)
    assert "河南省五一劳动奖章(省部,2018) → 全国劳动模范(全国,2020)" in said, said
    assert "{'title'" not in said


def test_two_imports_adding_the_same_new_id_at_once_do_not_both_write(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL: a row another import inserted but had not committed was invisible to the
    check, so both imports 'added' W009 and the second clerk's person replaced the first's."""
    import threading

    from gridgov.errors import ChangedMeanwhileError
    from gridgov.plans.roster import add_worker
    from gridgov.store import open_store

    with open_store(pg_url, create=True) as store:
        import_file(store, "wards", GOOD / "wards.geojson")
    sheet = tmp_path / "new.csv"
    sheet.write_text("编号,姓名,居住街道,经度,纬度\nW009,赵新乙,410802001,113.2021,35.2032\n", encoding="utf-8")
    first, second = open_store(pg_url), open_store(pg_url)
    outcome: list[BaseException | None] = []

    def other_clerk() -> None:
        try:
            import_file(second, "workers", sheet)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    try:
        with first.transaction():  # the first clerk's add, not yet committed
            add_worker(first, {"worker_id": "W009", "name": "王新甲", "home_ward": "410802001"}, actor="甲")
            clerk = threading.Thread(target=other_clerk)
            clerk.start()
            clerk.join(1.0)
            assert clerk.is_alive()  # waiting for the first to commit
        clerk.join(30)
        assert isinstance(outcome[0], ChangedMeanwhileError), outcome
        assert first.rows("workers", where={"worker_id": "W009"})[0]["name"] == "王新甲"
    finally:
        first.close()
        second.close()


def _grid_file(tmp_path: Path, grids: list[tuple[str, tuple[float, float, float, float]]]) -> Path:
    import geopandas as gpd
    from shapely.geometry import box

    path = tmp_path / "more_grids.geojson"
    gpd.GeoDataFrame({"网格编码": [c for c, _ in grids], "街道代码": [c[:9] for c, _ in grids]},
                     geometry=[box(*b) for _, b in grids], crs="EPSG:4490").to_file(path)
    return path


def test_a_ward_part_in_no_grid_is_noticed_until_its_grids_cover_it(seeded: SqlStore, tmp_path: Path) -> None:
    # The good data's 民主街道 (113.21-113.22) has one grid over its western half.
    report = import_file(seeded, "grids", GOOD / "grids.geojson", dry_run=True)
    gaps = [n for n in report.notices if "lies in no grid" in n.message_en]
    assert [(n.message_en.split(" of ")[1]) for n in gaps] == ["民主街道 (410802002) lies in no grid"]
    assert "(50%)" in gaps[0].message_en and "不在任何网格内" in gaps[0].message
    # The eastern half, short by 5 m at the ward's edge (two sources' boundaries): covered.
    report = import_file(seeded, "grids", _grid_file(tmp_path, [("410802002001002", (113.215, 35.2, 113.21995, 35.21))]))
    assert not [n for n in report.notices if "lies in no grid" in n.message_en]


def test_a_replace_that_leaves_a_hole_is_noticed(seeded: SqlStore, tmp_path: Path) -> None:
    # 民生街道 redrawn as one grid over its western half only: the eastern half is in no grid.
    report = import_file(seeded, "grids", _grid_file(tmp_path, [("410802001001001", (113.20, 35.2, 113.205, 35.21))]),
                         replace=True)
    assert any("(50%) of 民生街道 (410802001) lies in no grid" in n.message_en for n in report.notices)
