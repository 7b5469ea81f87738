"""File uploads: the CLI's import_file, the same validation and messages; 422 with every problem."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile

from gridgov.api.deps import PlannerUser, SettingsDep, StoreDep
from gridgov.api.errors import http_error
from gridgov.api.jobs import enqueue_solve
from gridgov.api.models import TOO_LARGE, ImportOut

router = APIRouter(prefix="/uploads", tags=["uploads"])
_CHUNK = 1 << 20


def _safe_name(name: str | None) -> str:
    """The upload's base name without any directory part (the suffix picks the reader).

    Only word characters, dots and dashes survive, so "../../evil.xlsx" is "evil.xlsx" inside the
    request's own temporary directory; at most 100 characters (a longer name would fail the
    file system's limit, a 500) with the suffix kept.
    """
    base = Path((name or "upload").replace("\\", "/")).name
    base = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", base).lstrip(".")
    if len(base) > 100:
        suffix = "".join(Path(base).suffixes)[-20:]
        base = base[: 100 - len(suffix)] + suffix
    return base or "upload"


def _check_crs(crs: str | None) -> None:
    """An unknown CRS is the caller's mistake (422), not a crash deep in the reader (pyproj's CRSError)."""
    if not crs:
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError:
        raise http_error(422, "无法识别的坐标系（crs），请填写如 EPSG:4490", "unknown coordinate system (crs): give e.g. EPSG:4490") from None


@router.post("/{layer}", response_model=ImportOut, responses={413: TOO_LARGE})
def upload(
    layer: Literal["wards", "grids", "workers", "incidents", "sites"],
    request: Request, store: StoreDep, user: PlannerUser, settings: SettingsDep,
    file: Annotated[UploadFile, File(description="GeoJSON / GeoPackage / Shapefile(.zip) / CSV / xlsx")],
    crs: Annotated[str | None, Form()] = None,
    repair: Annotated[bool, Form()] = False,
    dry_run: Annotated[bool, Form()] = False,
    sheet: Annotated[str | None, Form(description="GeoPackage 图层或 xlsx 工作表 / layer or sheet")] = None,
    replace: Annotated[bool, Form(description="网格：按街道整体替换 / grids: the file replaces its wards' grids")] = False,
    force: Annotated[bool, Form(description="劳模：确认改回名册变动设定的值 / workers: set back roster changes on purpose")] = False,
) -> ImportOut:
    """上传并导入（全部成功或全部不写入）/ upload a file and import it, all or nothing."""
    from gridgov.plans.imports import import_file

    _check_crs(crs)
    limit = int(settings.api_max_upload_mb * (1 << 20))
    with tempfile.TemporaryDirectory(prefix="gridgov-upload-") as tmp:
        path = Path(tmp) / _safe_name(file.filename)
        written = 0
        with open(path, "wb") as out:
            while chunk := file.file.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise http_error(413, f"文件超过 {settings.api_max_upload_mb:g} MB 上限",
                                     f"the file is larger than the {settings.api_max_upload_mb:g} MB limit")
                out.write(chunk)
        report = import_file(store, layer, path, crs=crs or None, repair=repair, dry_run=dry_run,
                             actor=user.username, layer_name=sheet or None, replace=replace, force=force)
    if layer == "workers" and not dry_run and (report.inserted or report.updated):
        enqueue_solve(store, actor=user.username, changed=True, reason="import")
        runner = getattr(request.app.state, "runner", None)
        if runner is not None:
            runner.wake()
    notices = [{"where": n.where, "where_en": n.where_en, "field": n.field, "message": n.message, "message_en": n.message_en}
               for n in report.notices]
    return ImportOut(layer=report.layer, file=report.file, rows=report.rows, inserted=report.inserted,
                     updated=report.updated, unchanged=report.unchanged, dry_run=report.dry_run,
                     notices=notices, message=report.render("zh"), message_en=report.render("en"))
