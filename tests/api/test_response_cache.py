"""The per-process response cache: a read never returns what a committed write has changed."""

from __future__ import annotations

from gridgov.api.cache import RevisionCache
from gridgov.store import open_store


def test_worker_list_follows_writes_made_elsewhere(client, auth, city):
    """A write through another store (another process, the CLI) is seen on the next read."""
    first = client.get("/api/workers", headers=auth["street1"]).json()
    again = client.get("/api/workers", headers=auth["street1"]).json()
    assert again == first
    cache: RevisionCache = client.app.state.cache
    assert cache.hits >= 1  # the second read was served from the cache
    worker_id = first[0]["worker_id"]
    with open_store(city) as store:  # not through the service: only the revisions tell it
        store.update("workers", {"worker_id": worker_id}, {"phone": "13711112222"})
    fresh = {w["worker_id"]: w for w in client.get("/api/workers", headers=auth["street1"]).json()}
    assert fresh[worker_id]["phone"] == "13711112222"


def test_each_office_has_its_own_entry(client, auth):
    one = {w["worker_id"] for w in client.get("/api/workers", headers=auth["street1"]).json()}
    two = {w["worker_id"] for w in client.get("/api/workers", headers=auth["street2"]).json()}
    again = {w["worker_id"] for w in client.get("/api/workers", headers=auth["street1"]).json()}
    assert one == again and one != two


def test_a_disabled_user_is_refused_at_once(client, auth, city):
    assert client.get("/api/workers", headers=auth["street1"]).status_code == 200
    with open_store(city) as store:
        store.update("users", {"username": "street1"}, {"disabled": True})
    assert client.get("/api/workers", headers=auth["street1"]).status_code == 401


def test_no_cache_when_size_is_zero(city):
    from api_city import make_client, token

    from gridgov.settings import Settings

    with make_client(city) as c:
        c.app.state.cache = RevisionCache(size=0)
        h = {"Authorization": f"Bearer {token(c, 'street1')}"}
        a = c.get("/api/workers", headers=h).json()
        b = c.get("/api/workers", headers=h).json()
        assert a == b and c.app.state.cache.hits == 0
    assert Settings().api_cache_entries > 0


def test_the_city_map_is_built_once_until_what_it_draws_changes(client, auth, city):
    """It was rebuilt (4-6 s for the demo city) on every sign-in, publish and language switch."""
    h = auth["planner"]
    cache: RevisionCache = client.app.state.map_cache
    first = client.get("/api/maps/coverage", headers=h).text
    assert client.get("/api/maps/coverage", headers=h).text == first and cache.hits == 1
    english = client.get("/api/maps/coverage?lang=en", headers=h).text
    assert english != first and cache.misses == 2  # one entry per language
    with open_store(city) as store:  # a write made elsewhere: only the revisions tell the service
        store.update("workers", {"worker_id": "B"}, {"name": "李四改"})
    fresh = client.get("/api/maps/coverage", headers=h).text
    assert fresh != first and "李四改" in fresh and cache.misses == 3
