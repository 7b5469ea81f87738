"""The synthetic roster of model workers: names, honours, sectors, employers, homes, status, capacity."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from gridgov.demo.grids import GridSet
from gridgov.demo.polygons import points_in
from gridgov.geo.shipped import COUNTY_NAMES

WORKERS_AT_FULL_SCALE = 1500
URBAN_COUNTIES = frozenset({"410802", "410803", "410804", "410811", "410871"})

SURNAMES = (
    "王李张刘陈杨赵郭孙马朱胡许徐宋何高周吴曹程崔贾牛范乔焦秦毋薛卫苗韩冯董史杜梁袁侯任"
)
SURNAME_WEIGHTS = np.linspace(3.0, 0.6, len(SURNAMES))
GIVEN = "国建志永春海明红军伟丽芳华玉秀英俊涛静敏杰鹏磊霞燕强勇超洪亮文卫东新民振宏丹娟刚平兰梅"

SECTOR_SHARES: dict[str, float] = {
    "企业": 0.30, "教育": 0.12, "医疗": 0.10, "农业": 0.10, "司法": 0.05, "公安": 0.05,
    "检察": 0.035, "法院": 0.04, "人社": 0.035, "社会工作": 0.05, "住建": 0.035, "其他": 0.085,
}

TITLES: dict[str, tuple[str, ...]] = {
    "全国": ("全国劳动模范", "全国五一劳动奖章", "全国先进工作者"),
    "省部": ("河南省劳动模范", "河南省五一劳动奖章", "河南省先进工作者", "中原大工匠"),
    "市": ("焦作市劳动模范", "焦作市五一劳动奖章", "焦作工匠", "焦作市先进工作者"),
    "县区": ("{county}劳动模范", "{county}五一劳动奖章", "{county}工匠"),
}
LEVELS = ("全国", "省部", "市", "县区")
TOP_LEVEL_SHARES = (0.03, 0.17, 0.45, 0.35)

CITY_UNITS: dict[str, tuple[str, ...]] = {
    "司法": ("焦作市司法局", "焦作市人民调解员协会"),
    "公安": ("焦作市公安局", "焦作市公安局交通警察支队"),
    "检察": ("焦作市人民检察院",),
    "法院": ("焦作市中级人民法院",),
    "人社": ("焦作市人力资源和社会保障局", "焦作市劳动人事争议仲裁院"),
    "社会工作": ("焦作市社会工作协会", "焦作市慈善总会"),
    "住建": ("焦作市住房和城乡建设局", "焦作市物业管理协会"),
    "教育": ("焦作市第一中学", "焦作市第十一中学", "焦作市外国语中学", "河南理工大学", "焦作大学",
             "焦作师范高等专科学校"),
    "医疗": ("焦作市人民医院", "焦作市第二人民医院", "焦作市中医院", "河南理工大学第一附属医院",
             "焦作市妇幼保健院"),
    "农业": ("焦作市农业农村局", "焦作市农业科学研究院"),
    "企业": ("中原内配集团", "龙佰集团", "风神轮胎股份有限公司", "多氟多新材料股份有限公司",
             "焦作万方铝业股份有限公司", "河南能源焦煤公司", "国网焦作供电公司", "焦作市公共交通有限公司"),
    "其他": ("焦作市总工会", "焦作市妇女联合会", "焦作日报社"),
}
LOCAL_UNITS: dict[str, tuple[str, ...]] = {
    "司法": ("{county}司法局", "{ward}司法所"),
    "公安": ("{county}公安局", "{county}公安局{place}派出所"),
    "检察": ("{county}人民检察院",),
    "法院": ("{county}人民法院",),
    "人社": ("{county}人力资源和社会保障局",),
    "社会工作": ("{ward}社会工作服务站", "{county}社会工作服务中心"),
    "住建": ("{county}住房和城乡建设局",),
    "教育": ("{county}第一高级中学", "{county}实验小学", "{ward}中心小学", "{ward}初级中学"),
    "医疗": ("{county}人民医院", "{county}中医院", "{ward}卫生院"),
    "农业": ("{county}农业农村局", "{ward}怀山药种植专业合作社", "{ward}蔬菜种植专业合作社",
             "{ward}农机专业合作社"),
    "企业": ("{county}机械制造有限公司", "{county}汽车零部件有限公司", "{county}食品有限公司",
             "{county}造纸有限公司", "{county}化工有限公司", "{county}建材有限公司", "{county}物流有限公司"),
    "其他": ("{county}总工会", "{ward}党群服务中心"),
}
PHONE_PREFIXES = (*range(130, 140), *(p for p in range(150, 160) if p != 154), *range(180, 190))


def build_roster(grids: GridSet, ward_names: dict[str, str], *, scale: float, rng: np.random.Generator
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """Workers (attributes) and their metric home points; homes are denser in the urban core."""
    n = max(10, int(round(WORKERS_AT_FULL_SCALE * scale)))
    home_grid = _home_grids(grids.frame, n, rng)
    homes = points_in(grids.geoms, home_grid, rng)
    ward = grids.frame["ward_code"].to_numpy()[home_grid]
    sectors = rng.choice(list(SECTOR_SHARES), size=n, p=np.array(list(SECTOR_SHARES.values())))
    status, u_from, u_to = _statuses(n, rng)
    frame = pd.DataFrame({
        "worker_id": [f"LM{i + 1:04d}" for i in range(n)],
        "name": [_name(rng) for _ in range(n)],
        "honours": [_honours(COUNTY_NAMES[w[:6]], rng) for w in ward],
        "sector": sectors,
        "employer": [_employer(s, w, ward_names[w], rng) for s, w in zip(sectors, ward)],
        "phone": [_phone(rng) for _ in range(n)],
        "home_ward": ward,
        "status": status,
        "unavailable_from": u_from,
        "unavailable_to": u_to,
        "capacity": _capacities(n, rng),
    })
    return frame, homes


def _home_grids(grids: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """Model workers live where people live, and cluster in the city where their units are."""
    county = grids["ward_code"].str[:6]
    street = grids["ward_code"].str[6] == "0"
    boost = np.where(county.isin(URBAN_COUNTIES) & street, 4.0, np.where(street, 1.5, 1.0))
    w = grids["households"].to_numpy() * boost
    return rng.choice(len(grids), size=n, p=w / w.sum())


def _name(rng: np.random.Generator) -> str:
    surname = SURNAMES[rng.choice(len(SURNAMES), p=SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum())]
    given = "".join(rng.choice(list(GIVEN), size=int(rng.choice([1, 2], p=[0.3, 0.7]))))
    return surname + given


def _honours(county: str, rng: np.random.Generator) -> list[dict[str, object]]:
    """1-3 honours: the highest first drawn, earlier ones at the same or a lower level."""
    top = int(rng.choice(len(LEVELS), p=TOP_LEVEL_SHARES))
    count = int(rng.choice([1, 2, 3], p=[0.55, 0.32, 0.13]))
    year = int(rng.integers(2000, 2026))
    out: list[dict[str, object]] = []
    for i in range(count):
        level = LEVELS[top] if i == 0 else LEVELS[int(rng.integers(top, len(LEVELS)))]
        title = str(rng.choice(TITLES[level])).format(county=county)
        if any(h["title"] == title for h in out):
            continue
        out.append({"title": title, "level": level, "year": year})
        year = max(1995, year - int(rng.integers(2, 8)))
    return sorted(out, key=lambda h: h["year"])


def _employer(sector: str, ward_code: str, ward_name: str, rng: np.random.Generator) -> str:
    """City-level units for most urban workers, county and township units elsewhere."""
    urban = ward_code[:6] in URBAN_COUNTIES
    pool = CITY_UNITS[sector] if rng.random() < (0.6 if urban else 0.15) else LOCAL_UNITS[sector]
    place = ward_name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
    return str(rng.choice(pool)).format(county=COUNTY_NAMES[ward_code[:6]], ward=ward_name, place=place)


def _phone(rng: np.random.Generator) -> str:
    return f"{PHONE_PREFIXES[int(rng.integers(len(PHONE_PREFIXES)))]}{int(rng.integers(0, 10**8)):08d}"


def _statuses(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[date | None], list[date | None]]:
    """~95% active, ~3% unavailable for 1-6 months in 2026, ~2% retired."""
    status = rng.choice(["active", "unavailable", "retired"], size=n, p=[0.95, 0.03, 0.02])
    starts = rng.integers(0, 270, size=n)
    lengths = rng.integers(30, 181, size=n)
    u_from: list[date | None] = []
    u_to: list[date | None] = []
    for s, start, length in zip(status, starts, lengths):
        begin = date(2026, 1, 1) + timedelta(days=int(start))
        u_from.append(begin if s == "unavailable" else None)
        u_to.append(begin + timedelta(days=int(length)) if s == "unavailable" else None)
    return status, u_from, u_to


def _capacities(n: int, rng: np.random.Generator) -> np.ndarray:
    """Standard grids (400 households) a worker can take on: mostly 2-4, a few up to 6."""
    base = rng.normal(3.0, 0.7, n)
    strong = rng.random(n) < 0.08
    return np.where(strong, rng.uniform(4.5, 6.0, n), base).clip(1.0, 6.0).round(1)
