"""Request dependencies: a store per request, the signed-in user, role checks and ward scoping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from gridgov.api.accounts import User, get_user
from gridgov.api.cache import RevisionCache
from gridgov.api.errors import SIGN_IN_AGAIN, http_error, not_visible
from gridgov.api.pool import StorePool
from gridgov.api.security import LoginLimiter, read_token
from gridgov.plans.versions import plan_assignment, published_plan
from gridgov.settings import Settings
from gridgov.store import SqlStore

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/login/access-token", auto_error=False)

# Dependencies that only look at app state are ``async def``: FastAPI runs a plain ``def`` in a
# worker thread, and every such hop waits for the GIL behind busy threads (measured on the
# street offices' list under load). Anything that touches the store stays ``def``.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_pool(request: Request) -> StorePool:
    return request.app.state.pool


def get_store(pool: Annotated[StorePool, Depends(get_pool)]) -> Iterator[SqlStore]:
    with pool.store() as store:
        yield store


async def get_login_limiter(request: Request) -> LoginLimiter:
    return request.app.state.login_limiter


async def get_cache(request: Request) -> RevisionCache:
    return request.app.state.cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
LoginLimiterDep = Annotated[LoginLimiter, Depends(get_login_limiter)]
StoreDep = Annotated[SqlStore, Depends(get_store)]
CacheDep = Annotated[RevisionCache, Depends(get_cache)]


def get_revisions(store: StoreDep) -> dict[str, int]:
    """The store's layer revisions, read once per request (dependencies are cached per request)."""
    return store.revisions()


RevisionsDep = Annotated[dict[str, int], Depends(get_revisions)]


def current_user(
    request: Request, store: StoreDep, cache: CacheDep, revisions: RevisionsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """The user the bearer token names; 401 for no token, a bad or expired one, or a disabled user."""
    return authenticate(token, state=request.app.state, store=store, cache=cache, revisions=revisions)


def authenticate(token: str | None, *, state: object, store: SqlStore, cache: RevisionCache,
                 revisions: dict[str, int]) -> User:
    """``current_user`` as a plain function, for a route that does all its work in one thread."""
    settings: Settings = state.settings  # type: ignore[attr-defined]
    claims = read_token(token, secret=state.secret, max_minutes=settings.api_token_minutes) if token else None  # type: ignore[attr-defined]
    user = None
    if claims:
        username, version = claims
        user = cache.get_or_read(store, ("user", username), ["users"], lambda: get_user(store, username),
                                 revisions=revisions)
        if user is not None and user.token_version != version:
            user = None  # issued before a password change, a disable or a sign-out
    if user is None or user.disabled:
        raise http_error(401, *SIGN_IN_AGAIN)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency letting through the given roles (and admin, who may do everything)."""
    allowed = {"admin", *roles}

    async def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise http_error(403, "您的角色无权使用此功能", "your role may not use this function")
        return user

    return check


AdminUser = Annotated[User, Depends(require_role("admin"))]
PlannerUser = Annotated[User, Depends(require_role("planner"))]


class _NoKey:
    """Wraps the store so lru_cache keys on (url, plan_id) only: every store is equal to every other."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NoKey)


@lru_cache(maxsize=16)
def _cached_assignment(url: str, plan_id: int, created_at: str, store: _NoKey) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    grid_worker = plan_assignment(store.store, plan_id)
    held: dict[str, list[str]] = {}
    for g, w in grid_worker.items():
        if w:
            held.setdefault(w, []).append(g)
    return grid_worker, held


def grid_workers(store: SqlStore, plan: dict) -> dict[str, str | None]:
    """grid -> worker of a plan row; cached per (store URL, plan id, created_at): a saved plan's
    assignment never changes (a re-solve writes a new plan, publishing flips statuses only), and
    created_at tells a plan from a later one that reused its id after the plans were cleared."""
    return _cached_assignment(store.url, int(plan["plan_id"]), str(plan.get("created_at")), _NoKey(store))[0]


def held_by_worker(store: SqlStore, plan: dict) -> dict[str, list[str]]:
    """worker -> grids held in a plan row (cached like grid_workers); callers must not change it."""
    return _cached_assignment(store.url, int(plan["plan_id"]), str(plan.get("created_at")), _NoKey(store))[1]


def workers_of_wards(store: SqlStore, wards: list[str]) -> set[str]:
    """Workers living in ``wards`` or holding one of their grids in the published plan."""
    ids = {r["worker_id"] for r in store.rows("workers", where={"home_ward": wards}, columns=["worker_id"])}
    plan = published_plan(store)
    if plan is not None:
        mine = {r["code"] for r in store.rows("grids", where={"ward_code": wards}, columns=["code"])}
        ids |= {w for g, w in grid_workers(store, plan).items() if w and g in mine}
    return ids


@dataclass(frozen=True)
class Scope:
    """What the caller may see: every ward (admin, planner) or the street office's own wards.

    Anything outside a street office's wards answers 404 exactly like a thing that does not
    exist, so a street office cannot even learn which other codes exist.
    """

    user: User

    def allows(self, ward_code: str | None) -> bool:
        return self.user.wards is None or (ward_code is not None and ward_code in self.user.wards)

    def require_ward(self, store: SqlStore, ward_code: str) -> None:
        if not self.allows(ward_code) or not store.count("wards", where={"code": ward_code}):
            raise not_visible(f"街道 {ward_code} ", f"ward {ward_code}")

    def ward_filter(self, ward: str | None, *, store: SqlStore | None = None) -> list[str] | None:
        """Ward codes to filter by: the one asked for (if allowed and, given ``store``, stored),
        else the user's; None = all. An unknown ward is 404 for every role alike."""
        if ward is not None:
            if not self.allows(ward) or (store is not None and not store.count("wards", where={"code": ward})):
                raise not_visible(f"街道 {ward} ", f"ward {ward}")
            return [ward]
        return None if self.user.wards is None else sorted(self.user.wards)

    def worker_ids(self, store: SqlStore) -> set[str] | None:
        """Workers a street office sees: living in its wards or holding its grids in the published plan."""
        return None if self.user.wards is None else workers_of_wards(store, sorted(self.user.wards))

    def require_worker(self, store: SqlStore, worker_id: str) -> None:
        visible = self.worker_ids(store)
        exists = store.count("workers", where={"worker_id": worker_id}) > 0
        if not exists or (visible is not None and worker_id not in visible):
            raise not_visible(f"劳模 {worker_id} ", f"worker {worker_id}")


async def get_scope(user: CurrentUser) -> Scope:
    return Scope(user)


ScopeDep = Annotated[Scope, Depends(get_scope)]
