"""The page in Debian's headless chromium: street office and planner flows, with every non-local request blocked."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # gitignored; CI keeps the screenshots
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium (the browser test never skips)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _sign_in(page, user: str, password: str) -> None:
    page.fill("#login-form input[name=username]", user)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button[type=submit]")


def test_street_office_and_planner(browser, served):
    ARTIFACTS.mkdir(exist_ok=True)
    base = urlsplit(served.url)
    attempted: list[str] = []

    def guard(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob", "about") or (url.hostname, url.port) == (base.hostname, base.port):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(served.url + "/")

    # Street office of 民生街道: its workers with phones, its map's polygons.
    _sign_in(page, "street1", served.password)
    rows = page.locator("#street-workers tbody tr")
    rows.first.wait_for()
    names = rows.locator("td:first-child").all_inner_texts()
    assert names == ["李四", "张三"]  # 张三 (A) retired: listed last, marked as such
    assert "13900000001" in page.inner_text("#street-workers")
    assert rows.nth(1).locator("td").nth(1).inner_text() == "已退出" and rows.nth(1).get_attribute("class") == "retired"
    # Grids by name (the codes on hover), as the clerk knows them.
    grids = rows.first.locator("td").nth(5)
    assert grids.inner_text().startswith("G10") and grids.inner_text().endswith("网格")
    assert grids.get_attribute("title").startswith("G10") and "网格" not in grids.get_attribute("title")
    page.locator("#street-ledger tbody tr").first.wait_for()  # its own workers' roster changes
    assert "劳模退出" in page.inner_text("#street-ledger") and "发布方案" not in page.inner_text("#street-ledger")
    assert "张三（A）" in page.inner_text("#street-ledger")  # by name: the clerk's list has no ids
    # The printout names the plan it comes from (hidden on screen, shown in print).
    assert page.text_content("#print-plan").startswith(f"方案 {served.published_id}（20")
    assert page.inner_text("#street-ledger thead").split() == ["时间", "操作人", "变动", "对象", "内容"]
    polygons = page.frame_locator("#ward-map").locator("path.leaflet-interactive")
    polygons.first.wait_for()
    assert polygons.count() >= 3  # three grids (plus outlines)
    # The map's scripts run sandboxed, in an origin of their own: the page's token is out of reach.
    assert page.frame_locator("#ward-map").locator("body").evaluate(
        "() => { try { return sessionStorage.getItem('gridgov.token'); } catch (e) { return 'blocked'; } }") == "blocked"
    page.screenshot(path=str(ARTIFACTS / "street_office.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "street_office_print.png"), full_page=True)
    page.emulate_media(media="screen")

    # Another ward's data cannot be reached with this token, whatever the route.
    statuses = page.evaluate("""async () => {
        const h = {Authorization: 'Bearer ' + sessionStorage.getItem('gridgov.token')};
        const paths = ['/api/wards/410802002', '/api/workers/C', '/api/grids?ward=410802002',
                       '/api/maps/ward/410802002', '/api/exports/wards/410802002.xlsx', '/api/plans'];
        const out = {};
        for (const p of paths) out[p] = (await fetch(p, {headers: h})).status;
        return out;
    }""")
    assert statuses == {"/api/wards/410802002": 404, "/api/workers/C": 404, "/api/grids?ward=410802002": 404,
                        "/api/maps/ward/410802002": 404, "/api/exports/wards/410802002.xlsx": 404,
                        "/api/plans": 403}
    assert "王五" not in page.content()

    # English switch.
    page.click("#lang")
    assert page.inner_text("h1") == "Jiaozuo model workers on grids"
    page.click("#lang")
    page.click("#logout")

    # Planner: the city map, then publish the prepared draft.
    _sign_in(page, "planner", served.password)
    page.frame_locator("#city-map").locator("path.leaflet-interactive").first.wait_for()
    page.click(".tabs button[data-tab=plans]")
    draft_row = page.locator(f"#plans tbody tr[data-plan='{served.draft_id}']")
    assert draft_row.locator("td").nth(1).inner_text() == "草稿"
    # Times read on the user's clock (the API sends UTC): Jiaozuo is UTC+8.
    created = page.evaluate(f"""async () => (await (await fetch('/api/plans/{served.draft_id}',
        {{headers: {{Authorization: 'Bearer ' + sessionStorage.getItem('gridgov.token')}}}})).json()).created_at""")
    local = datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
    assert draft_row.locator("td").nth(2).inner_text() == local.strftime("%Y-%m-%d %H:%M")
    page.once("dialog", lambda d: d.accept())
    draft_row.locator("button.publish").click()
    page.wait_for_function(
        f"document.querySelector(\"#plans tr[data-plan='{served.draft_id}'] td:nth-child(2)\").textContent === '已发布'")
    old_row = page.locator(f"#plans tbody tr[data-plan='{served.published_id}'] td").nth(1)
    assert old_row.inner_text() == "已替换"  # as the CLI and the exports say
    assert f"方案 {served.draft_id} 已发布" in page.inner_text("#status")
    page.select_option("#diff-a", str(served.published_id))
    page.select_option("#diff-b", str(served.draft_id))
    page.click("#diff-run")
    page.locator("#diff tbody tr").first.wait_for()
    assert "张三（A）" in page.inner_text("#diff")  # the retired A's grids, named, not just by id
    assert "民生街道" in page.inner_text("#diff") and "410802001" not in page.inner_text("#diff")  # wards by name
    moved = page.locator("#diff tbody tr").count()
    changed = page.locator(f"#plans tbody tr[data-plan='{served.draft_id}'] td").nth(5).inner_text()
    assert changed == str(moved)  # the plans table counts the same grids as the diff (A's, though he left)
    page.screenshot(path=str(ARTIFACTS / "planner_plans.png"), full_page=True)
    page.click("#lang")  # a language switch keeps the planner where they were
    page.wait_for_function("document.querySelector('h1').textContent === 'Jiaozuo model workers on grids'")
    page.locator(f"#plans tbody tr[data-plan='{served.draft_id}']").wait_for()
    assert page.locator("#tab-plans").is_visible() and page.locator("#tab-map").is_hidden()
    page.click("#lang")
    page.wait_for_function("document.querySelector('h1').textContent !== 'Jiaozuo model workers on grids'")
    # Before publishing one looks: each plan's workbook and map, and the diff as a map.
    row = page.locator(f"#plans tbody tr[data-plan='{served.published_id}']")
    with page.expect_download() as download:
        row.locator("button.plan-xlsx").click()
    assert download.value.suggested_filename == f"全市方案_{served.published_id}.xlsx"
    page.select_option("#diff-a", str(served.published_id))
    page.select_option("#diff-b", str(served.draft_id))
    page.click("#diff-run")
    page.click("#diff-map")
    page.locator("#tab-map").wait_for(state="visible")
    page.frame_locator("#city-map").locator("path.leaflet-interactive").first.wait_for()
    assert "方案" in page.frame_locator("#city-map").locator("body").inner_text()
    # An absence booked ahead reads as such on the roster (the worker keeps the grids until then).
    assert page.evaluate("""async () => (await fetch('/api/workers/D/unavailable', {method: 'POST',
        headers: {Authorization: 'Bearer ' + sessionStorage.getItem('gridgov.token'), 'Content-Type': 'application/json'},
        body: JSON.stringify({start: '2099-01-01'})})).status""") == 200
    page.click(".tabs button[data-tab=roster]")
    page.evaluate("loadRoster()")  # the page reloads it after its own roster changes
    page.wait_for_function("[...document.querySelectorAll('#planner-workers tbody tr')].some("
                           "r => r.textContent.includes('2099-01-01 起暂不可用'))")
    # The ledger: the publish and the roster changes, newest first, with what changed.
    page.click(".tabs button[data-tab=ledger]")
    page.locator("#ledger tbody tr").first.wait_for()
    ledger = page.inner_text("#ledger")
    assert "发布方案" in ledger and "劳模暂不可用" in ledger and "暂不可用起：— → 2099-01-01" in ledger
    # Plans by their Chinese name; no bookkeeping JSON (it showed {"410802001":0} → {…}).
    assert "方案 1" in ledger and "plan 1" not in ledger and "ledger_seen" not in ledger and '":' not in ledger
    page.click(".tabs button[data-tab=plans]")
    row.locator("button.plan-map").click()
    page.locator("#tab-map").wait_for(state="visible")
    page.frame_locator("#city-map").locator("path.leaflet-interactive").first.wait_for()
    page.click(".tabs button[data-tab=map]")
    page.frame_locator("#city-map").locator("path.leaflet-interactive").first.wait_for()
    page.wait_for_timeout(300)  # let Leaflet finish fitting the bounds
    page.screenshot(path=str(ARTIFACTS / "planner_map.png"))

    # Signing out leaves nothing of the planner's data for the next user of the tab: the roster
    # list held every worker's name after sign-out (found by a privacy review).
    page.click("#logout")
    left = page.evaluate("""() => ({options: document.querySelectorAll('#roster-worker option, #diff-a option,'
        + ' #diff-b option, #ward-select option').length, names: Object.keys(state.names).length,
        rows: document.querySelectorAll('tbody tr').length, text: document.body.innerText})""")
    assert (left["options"], left["names"], left["rows"]) == (0, 0, 0), left
    assert "王五" not in left["text"] and "张三" not in left["text"]

    context.close()
    assert attempted == [], f"requests to the outside were attempted: {attempted}"


def test_sign_in_says_why_it_failed(browser, served):
    """A wrong password, then the lockout: the page shows the server's reason, not always the first."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(served.url + "/")
    _sign_in(page, "street1", "wrong-password")
    page.wait_for_function("document.querySelector('#status').textContent.includes('用户名或密码错误')")
    for _ in range(10):  # past the lockout threshold
        _sign_in(page, "street1", "wrong-password")
        page.wait_for_timeout(100)
    _sign_in(page, "street1", served.password)
    page.wait_for_function("document.querySelector('#status').textContent.includes('登录失败次数过多')")
    context.close()


def _planner_page(browser, served):
    """A new browser context signed in as the planner, the city map drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(served.url + "/")
    _sign_in(page, "planner", served.password)
    page.frame_locator("#city-map").locator("path.leaflet-interactive").first.wait_for()
    return context, page


def test_a_planner_deletes_a_row_entered_by_mistake_and_puts_it_back(browser, served):
    context, page = _planner_page(browser, served)
    assert page.evaluate("""async () => (await fetch('/api/workers', {method: 'POST',
        headers: {Authorization: 'Bearer ' + sessionStorage.getItem('gridgov.token'), 'Content-Type': 'application/json'},
        body: JSON.stringify({worker_id: 'X9', name: '误录', home_ward: '410802002', lon: 113.215, lat: 35.205,
                              phone: '13900000099'})})).status""") == 201
    page.click(".tabs button[data-tab=roster]")
    page.evaluate("loadRoster()")
    page.wait_for_function("[...document.querySelectorAll('#planner-workers tbody tr')].some(r => r.textContent.includes('误录'))")
    page.select_option("#roster-worker", "X9")
    page.select_option("#roster-action", "remove")
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.click("#roster-form button[type=submit]")
    page.wait_for_function("!document.querySelector('#planner-workers').textContent.includes('误录')")
    assert "仅用于误录的人员" in dialogs[0] and "已删除劳模 X9" in page.inner_text("#status")
    # A worker on a plan cannot be deleted: the page shows why (409) and keeps them.
    page.select_option("#roster-worker", "B")
    page.once("dialog", lambda d: d.accept())
    page.click("#roster-form button[type=submit]")
    page.wait_for_function("document.querySelector('#status').textContent.includes('不能删除')")
    assert "李四" in page.inner_text("#planner-workers")
    # The ledger shows what was deleted and puts it back.
    page.click(".tabs button[data-tab=ledger]")
    row = page.locator("#ledger tbody tr", has_text="删除误录劳模")
    row.first.wait_for()
    assert "姓名：误录 → —" in row.first.inner_text() and "住址坐标：（坐标） → —" in row.first.inner_text()
    row.first.locator("button.restore").click()
    page.wait_for_function("document.querySelector('#status').textContent.includes('已恢复劳模 X9')")
    assert "误录" in page.inner_text("#planner-workers")
    page.wait_for_function("!document.querySelector('#ledger button.restore')")  # nothing left to restore
    context.close()


def test_a_second_absence_is_confirmed_before_it_replaces_the_first(browser, served):
    context, page = _planner_page(browser, served)
    page.click(".tabs button[data-tab=roster]")
    page.select_option("#roster-worker", "D")
    page.select_option("#roster-action", "unavailable")
    page.fill("#roster-form input[name=start]", "2099-12-10")
    page.fill("#roster-form input[name=end]", "2099-12-20")
    page.click("#roster-form button[type=submit]")
    page.wait_for_function("document.querySelector('#status').textContent.includes('任务')")
    page.click(".tabs button[data-tab=roster]")  # the page showed the queued re-solve
    page.fill("#roster-form input[name=start]", "2099-11-26")
    page.fill("#roster-form input[name=end]", "2099-11-28")
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))  # first: keep the booked one
    page.click("#roster-form button[type=submit]")
    page.wait_for_function("document.querySelector('#status').textContent.includes('2099-12-10')")
    assert "替换" in dialogs[0]
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))  # then: replace it
    page.click("#roster-form button[type=submit]")
    page.wait_for_function("[...document.querySelectorAll('#planner-workers tbody tr')].some("
                           "r => r.textContent.includes('2099-11-26 起暂不可用'))")
    context.close()


def test_job_messages_show_in_the_pages_language(browser, served):
    """Job messages are stored "中文 / English"; the jobs tab showed both in either language."""
    from gridgov.api.jobs import enqueue_solve
    from gridgov.store import open_store

    with open_store(served.db) as store:
        job = enqueue_solve(store, actor="planner", changed=True)
        store.update("jobs", {"job_id": job}, {"status": "done", "message": "已生成草稿方案 9 / draft plan 9 stored"})
    context, page = _planner_page(browser, served)
    page.click(".tabs button[data-tab=jobs]")
    row = page.locator(f"#jobs tbody tr[data-job='{job}']")
    row.wait_for()
    assert "已生成草稿方案 9" in row.inner_text() and "draft plan" not in row.inner_text()
    page.click("#lang")
    page.click(".tabs button[data-tab=jobs]")
    page.wait_for_function(f"document.querySelector(\"#jobs tbody tr[data-job='{job}']\")?.textContent.includes('draft plan 9 stored')")
    assert "已生成" not in page.locator(f"#jobs tbody tr[data-job='{job}']").inner_text()
    context.close()


def test_an_ended_session_says_so_and_polling_restarts_after_a_new_sign_in(browser, served):
    """The status line read just "401"; after signing out and in, finished jobs stayed "running"."""
    from gridgov.api.jobs import enqueue_solve
    from gridgov.store import open_store

    with open_store(served.db) as store:
        enqueue_solve(store, actor="planner", changed=True)  # stays queued: this service runs no jobs
    context, page = _planner_page(browser, served)
    page.wait_for_function("state.poll !== null")  # a queued job: the page polls
    # Another sign-out of this account ends this session: the next click finds it ended.
    page.evaluate("""() => fetch('/api/logout', {method: 'POST',
        headers: {Authorization: 'Bearer ' + sessionStorage.getItem('gridgov.token')}})""")
    page.click(".tabs button[data-tab=plans]")
    page.click("#diff-run")
    page.wait_for_function("document.querySelector('#status').textContent.includes('登录已过期')")
    assert page.locator("#login-view").is_visible() and page.inner_text("#status") == "登录已过期，请重新登录"
    assert page.evaluate("state.poll") is None
    _sign_in(page, "planner", served.password)
    page.frame_locator("#city-map").locator("path.leaflet-interactive").first.wait_for()
    page.wait_for_function("state.poll !== null")  # polling again for the queued job
    context.close()


def test_the_api_docs_render_offline(browser, served):
    """Swagger UI 4.15 (swagger-ui-bundle) said "Unable to render this definition": FastAPI's
    OpenAPI is 3.1. Every request stays on the service."""
    context = browser.new_context()
    outside: list[str] = []
    context.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
                  if not route.request.url.startswith(served.url) else route.continue_())
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(served.url + "/docs")
    page.locator(".opblock-summary").first.wait_for()
    assert page.locator(".opblock-summary").count() > 20 and "Unable to render" not in page.inner_text("body")
    assert outside == []
    context.close()


def test_a_draft_from_an_older_plan_says_it_is_out_of_date(browser, served):
    """Two drafts a minute apart both offered 发布; after one was published the other would undo it."""
    from gridgov.plans.run import solve_plan
    from gridgov.plans.versions import publish_plan
    from gridgov.store import open_store

    with open_store(served.db) as store:
        newer = solve_plan(store, actor="t").plan_id  # also from the published plan
        publish_plan(store, newer, actor="t")
    context, page = _planner_page(browser, served)
    page.click(".tabs button[data-tab=plans]")
    row = page.locator(f"#plans tbody tr[data-plan='{served.draft_id}'] td").nth(1)
    row.wait_for()
    assert row.inner_text() == f"草稿（基于旧方案 {served.published_id}，已过时）"
    context.close()


def test_the_roster_form_finds_a_worker_by_name(browser, served):
    """1,500 workers in one select: finding one meant scrolling or knowing the id."""
    context, page = _planner_page(browser, served)
    page.click(".tabs button[data-tab=roster]")
    page.wait_for_function("document.querySelectorAll('#roster-worker option').length > 1")
    page.fill("#roster-find", "李四")
    options = page.locator("#roster-worker option").all_inner_texts()
    assert options == ["B 李四"] and page.input_value("#roster-worker") == "B"
    page.fill("#roster-find", "")
    assert page.locator("#roster-worker option").count() == 6
    context.close()


def test_a_phone_sized_screen_keeps_the_page_its_width(browser, served):
    """At 375 px the page was 594 px wide and 退出登录 a column of single characters."""
    context = browser.new_context(viewport={"width": 375, "height": 667})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(served.url + "/")
    _sign_in(page, "street1", served.password)
    page.locator("#street-workers tbody tr").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    box = page.locator("#logout").bounding_box()
    assert box["width"] > box["height"]  # a button, not a column of characters
    context.close()


def test_tabs_maps_and_selects_are_named_for_screen_readers(browser, served):
    context, page = _planner_page(browser, served)
    assert page.get_attribute(".tabs button[data-tab=map]", "aria-selected") == "true"
    page.click(".tabs button[data-tab=plans]")
    assert page.get_attribute(".tabs button[data-tab=plans]", "aria-selected") == "true"
    assert page.get_attribute(".tabs button[data-tab=map]", "aria-selected") == "false"
    assert page.get_attribute("#city-map", "title") == "地图" and page.get_attribute("#diff-a", "aria-label") == "原方案"
    page.click("#lang")
    page.wait_for_function("document.querySelector('#diff-a').getAttribute('aria-label') === 'from plan'")
    context.close()


def _street_page(browser, served):
    """A new browser context signed in as 民生街道's office, its worker list shown."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(served.url + "/")
    _sign_in(page, "street1", served.password)
    page.locator("#street-workers tbody tr").first.wait_for()
    return context, page


def test_a_clerk_changes_their_own_password(browser, served):
    context, page = _street_page(browser, served)
    page.click("#password")

    def submit(current: str, new: str, repeat: str) -> None:
        page.fill("#password-form input[name=current]", current)
        page.fill("#password-form input[name=new]", new)
        page.fill("#password-form input[name=repeat]", repeat)
        page.click("#password-form button[type=submit]")

    submit(served.password, "street-new-pass-7", "street-new-pass-8")
    page.wait_for_function("document.querySelector('#status').textContent.includes('两次输入的新密码不一致')")
    submit("not-my-password", "street-new-pass-7", "street-new-pass-7")
    page.wait_for_function("document.querySelector('#status').textContent.includes('当前密码不正确')")
    submit(served.password, "street-new-pass-7", "street-new-pass-7")
    page.wait_for_function("document.querySelector('#status').textContent.includes('密码已修改')")
    assert page.locator("#password-view").is_hidden()
    page.reload()  # the page carries on with the new token
    page.locator("#street-workers tbody tr").first.wait_for()
    page.click("#logout")
    _sign_in(page, "street1", served.password)
    page.wait_for_function("document.querySelector('#status').textContent.includes('用户名或密码错误')")
    _sign_in(page, "street1", "street-new-pass-7")
    page.locator("#street-workers tbody tr").first.wait_for()
    context.close()


def test_a_request_caught_in_a_password_change_does_not_sign_the_page_out(browser, served):
    # The old token stops working when the service saves the new password; a job poll answered
    # in between signed the page out before it could store the new token (a review's reading).
    context, page = _street_page(browser, served)
    held = {}

    def hold(route) -> None:
        held["response"] = route.fetch()  # the service has changed it: the old token is dead now
        held["route"] = route

    page.route("**/api/me/password", hold)
    page.click("#password")
    page.fill("#password-form input[name=current]", served.password)
    page.fill("#password-form input[name=new]", "street-new-pass-7")
    page.fill("#password-form input[name=repeat]", "street-new-pass-7")
    page.click("#password-form button[type=submit]")
    for _ in range(200):
        if "route" in held:
            break
        page.wait_for_timeout(50)
    page.evaluate("() => { api('/api/me'); }")  # a request with the old token: 401
    page.wait_for_timeout(500)
    held["route"].fulfill(response=held["response"])
    page.wait_for_function("document.querySelector('#status').textContent.includes('密码已修改')")
    assert page.locator("#logout").is_visible() and page.locator("#login-view").is_hidden()
    context.close()
