"""The data model: every stored layer, its columns, types and key, defined once for all stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["text", "int", "float", "bool", "date", "datetime", "json"]
GeometryKind = Literal["MULTIPOLYGON", "POINT"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    label: str  # Chinese header, used in xlsx exports and accepted on import
    required: bool = False


@dataclass(frozen=True)
class Layer:
    """A stored table; ``geometry`` is None for attribute-only tables (plans, ledger …)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    geometry: GeometryKind | None = None
    label: str = ""
    autoincrement: bool = False  # the single integer key is assigned by the store

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, kind: ColumnKind, label: str, required: bool = False) -> Column:
    return Column(name, kind, label, required)


# The 人民调解 dispute categories (types of incident and of studio).
DISPUTE_TYPES: tuple[str, ...] = (
    "婚姻家庭", "邻里", "房屋宅基地", "合同", "生产经营", "损害赔偿", "山林土地",
    "征地拆迁", "环境污染", "劳动争议", "消费", "医疗", "道路交通事故", "物业", "其它",
)

SECTORS: tuple[str, ...] = (
    "司法", "公安", "检察", "法院", "人社", "社会工作", "住建", "教育", "医疗", "农业", "企业", "其他",
)

HONOUR_LEVELS: tuple[str, ...] = ("全国", "省部", "市", "县区")

GRID_KINDS: tuple[str, ...] = ("基础", "专属")

WORKER_STATUSES: tuple[str, ...] = ("active", "unavailable", "retired")
# The most standard grids (400 households each) one worker takes on: a ward has 30-40 grids,
# so more is a typo (20 for 2.0), not a plan.
MAX_CAPACITY = 50.0
WORKER_STATUS_ZH = {"active": "在岗", "unavailable": "暂不可用", "retired": "退出"}

PLAN_STATUSES: tuple[str, ...] = ("draft", "published", "superseded")
PLAN_STATUS_ZH = {"draft": "草稿", "published": "已发布", "superseded": "已替换"}
ROLE_ZH = {"admin": "管理员", "planner": "方案编制人员", "street": "街道/乡镇"}

COUNTIES = Layer(
    "counties", ("code",),
    (_c("code", "text", "区县代码", True), _c("name", "text", "区县名称", True)),
    geometry="MULTIPOLYGON", label="区县",
)

WARDS = Layer(
    "wards", ("code",),
    (
        _c("code", "text", "街道代码", True),
        _c("name", "text", "街道名称", True),
        _c("county_code", "text", "区县代码", True),
    ),
    geometry="MULTIPOLYGON", label="街道/乡镇",
)

GRIDS = Layer(
    "grids", ("code",),
    (
        _c("code", "text", "网格编码", True),
        _c("ward_code", "text", "街道代码", True),
        _c("name", "text", "网格名称"),
        _c("kind", "text", "网格类型"),
        _c("households", "int", "户数"),
        _c("population", "int", "人口"),
    ),
    geometry="MULTIPOLYGON", label="网格",
)

WORKERS = Layer(
    "workers", ("worker_id",),
    (
        _c("worker_id", "text", "编号", True),
        _c("name", "text", "姓名", True),
        _c("honours", "json", "荣誉"),  # list of {"title", "level", "year"}
        _c("sector", "text", "行业"),
        _c("employer", "text", "单位"),
        _c("phone", "text", "电话"),
        _c("home_ward", "text", "居住街道"),
        _c("status", "text", "状态"),
        _c("unavailable_from", "date", "暂不可用起"),
        _c("unavailable_to", "date", "暂不可用止"),
        _c("capacity", "float", "承担能力"),
    ),
    geometry="POINT", label="劳模",
)

INCIDENTS = Layer(
    "incidents", ("incident_id",),
    (
        _c("incident_id", "text", "编号", True),
        _c("type", "text", "纠纷类型", True),
        _c("date", "date", "日期", True),
        _c("ward_code", "text", "街道代码"),
        _c("status", "text", "状态"),
    ),
    geometry="POINT", label="矛盾纠纷",
)

SITES = Layer(
    "sites", ("site_id",),
    (
        _c("site_id", "text", "编号", True),
        _c("name", "text", "名称", True),
        _c("kind", "text", "类型"),
        _c("types", "json", "受理纠纷类型"),  # list of DISPUTE_TYPES
        _c("capacity", "float", "容量"),
        _c("existing", "bool", "已建成"),
    ),
    geometry="POINT", label="调解工作室站点",
)

PLANS = Layer(
    "plans", ("plan_id",),
    (
        _c("plan_id", "int", "方案编号"),
        _c("kind", "text", "方案类别"),  # "grid" (劳模包格) or "studio" (调解工作室)
        _c("rule", "text", "规则"),
        _c("params", "json", "参数"),
        _c("scope", "json", "范围"),  # ward codes solved, or null = city
        _c("status", "text", "状态"),
        _c("created_by", "text", "创建人"),
        _c("created_at", "datetime", "创建时间"),
        _c("published_by", "text", "发布人"),
        _c("published_at", "datetime", "发布时间"),
        _c("solver_status", "text", "求解状态"),
        _c("objective", "float", "目标值"),
        _c("bound", "float", "下界"),
        _c("summary", "json", "摘要"),
        # A grid plan solves some wards and carries the others over from the plan published
        # when it was solved (``based_on``); ``ledger_seen`` says, per ward, the last ledger
        # entry its roster reflects, so later roster changes mark the ward stale.
        _c("based_on", "int", "基于方案"),
        _c("ledger_seen", "json", "名册依据"),
    ),
    label="方案", autoincrement=True,
)

ASSIGNMENTS = Layer(
    "assignments", ("plan_id", "grid_code"),
    (
        _c("plan_id", "int", "方案编号", True),
        _c("grid_code", "text", "网格编码", True),
        _c("worker_id", "text", "劳模编号"),  # null: uncovered
        _c("reason", "text", "说明"),
    ),
    label="包格分配",
)

LEDGER = Layer(
    "ledger", ("entry_id",),
    (
        _c("entry_id", "int", "序号"),
        _c("at", "datetime", "时间", True),
        _c("actor", "text", "操作人", True),
        _c("action", "text", "操作", True),
        _c("subject", "text", "对象", True),
        _c("before", "json", "变更前"),
        _c("after", "json", "变更后"),
    ),
    label="工作台账", autoincrement=True,
)

USERS = Layer(
    "users", ("username",),
    (
        _c("username", "text", "用户名", True),
        _c("display_name", "text", "显示名称"),
        _c("role", "text", "角色", True),  # admin | planner | street
        _c("wards", "json", "负责街道"),  # ward codes a street office may see
        _c("password_hash", "text", "密码摘要", True),
        _c("disabled", "bool", "停用"),
        _c("created_at", "datetime", "创建时间"),
        # Raised by a password change, a disable and a sign-out: tokens carry the version they
        # were issued under, so every earlier token stops working at once.
        _c("token_version", "int", "令牌版本"),
    ),
    label="用户",
)

JOBS = Layer(
    "jobs", ("job_id",),
    (
        _c("job_id", "int", "任务编号"),
        _c("kind", "text", "任务类别", True),  # "solve"
        _c("status", "text", "状态", True),  # queued | running | done | failed
        _c("params", "json", "参数"),
        _c("progress", "json", "进度"),
        _c("message", "text", "说明"),
        _c("plan_id", "int", "方案编号"),
        _c("created_by", "text", "发起人"),
        _c("created_at", "datetime", "创建时间"),
        _c("started_at", "datetime", "开始时间"),
        _c("finished_at", "datetime", "结束时间"),
        _c("heartbeat_at", "datetime", "心跳时间"),
    ),
    label="后台任务", autoincrement=True,
)

# Solve locks of the GeoPackage store (PostGIS uses advisory locks and leaves this table empty):
# one row per locked ward, written in its own short transaction; a row whose process is gone
# (same host, pid dead) or whose heartbeat is older than the stale limit may be taken over.
LOCKS = Layer(
    "locks", ("resource",),
    (
        _c("resource", "text", "锁定对象", True),  # "ward:<code>"
        _c("owner", "text", "持有者", True),  # who solves (user name, job)
        _c("token", "text", "持有凭据", True),  # one per opened store: tells our rows from others'
        _c("host", "text", "主机"),
        _c("pid", "int", "进程号"),
        _c("acquired_at", "datetime", "加锁时间"),
        _c("heartbeat_at", "datetime", "心跳时间"),
    ),
    label="求解锁",
)

ROLES: tuple[str, ...] = ("admin", "planner", "street")
JOB_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (COUNTIES, WARDS, GRIDS, WORKERS, INCIDENTS, SITES, PLANS, ASSIGNMENTS, LEDGER, USERS, JOBS,
                  LOCKS)
}

# Layers a user imports from files, and the ones holding personal data (never logged).
IMPORTABLE = ("wards", "grids", "workers", "incidents", "sites")
PERSONAL_FIELDS = frozenset({"name", "phone", "password_hash"})
