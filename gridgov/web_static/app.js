// gridgov page: sign in, then the street-office view (its ward's map and workers) or the planner view.
// Only same-origin requests: the page must work on an intranet with no internet at all.
"use strict";

const state = {
  lang: localStorage.getItem("gridgov.lang") || "zh",
  token: sessionStorage.getItem("gridgov.token"), // per tab: closing it ends access to personal data
  user: null,
  poll: null,
  mapStale: false,
  names: {}, // worker id -> name, from the planner's roster
};

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function t(key, vars = {}) {
  const text = (I18N[state.lang] && I18N[state.lang][key]) || I18N.zh[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : ""));
}

function applyLang() {
  document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
  $$("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $$("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $$("[data-i18n-title]").forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  $$("[data-i18n-aria]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nAria)); });
  $("#lang").textContent = state.lang === "en" ? "中文" : "English";
  document.title = t("title") + " · gridgov";
}

function say(text, kind = "info") {
  const el = $("#status");
  el.textContent = text || "";
  el.className = "status " + kind;
}

function errorText(body, fallback) {
  const d = body && body.detail;
  if (d && typeof d === "object" && d.message) {
    const main = state.lang === "en" ? d.message_en : d.message;
    const problems = (d.problems || []).map((p) => (state.lang === "en" ? p.message_en : p.message));
    return [main, ...problems].join("\n");
  }
  return fallback;
}

// An answer that arrives after its session ended (signed out, or another user signed in) is
// dropped: it must neither fill the next user's tables nor overwrite their messages.
const ABANDONED = new Promise(() => {});

async function api(path, { method = "GET", body, form, raw } = {}) {
  const headers = {};
  const session = state.token;
  if (session) headers.Authorization = "Bearer " + session;
  let payload;
  if (form) {
    payload = new URLSearchParams(form);
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    if (state.token !== session) return ABANDONED;
    throw new Error(t("serverDown")); // the browser's "Failed to fetch" tells a clerk nothing
  }
  if (state.token !== session) return ABANDONED;
  // While a password change is under way the old token stops working before the page holds the
  // new one: a poll caught in between must not sign the page out.
  if (res.status === 401 && state.renewing && path !== "/api/me/password") return ABANDONED;
  if (res.status === 401 && state.user) {
    signOut();
    // The message, not "401": every caller shows what it catches.
    const ended = new Error(t("sessionEnded"));
    ended.status = 401;
    throw ended;
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    const err = new Error(errorText(data, res.status + " " + res.statusText));
    err.status = res.status;
    err.messageEn = data && data.detail && data.detail.message_en; // tells apart answers of one status
    throw err;
  }
  if (raw) return res;
  return res.json();
}

function localTime(iso) {
  // The service sends UTC ("…Z"); people read their own clock (Jiaozuo: UTC+8).
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text); // textContent: data never becomes markup
  row.appendChild(td);
  return td;
}

function wardCell(row, code) {
  const td = cell(row, (state.wardNames && state.wardNames[code]) || code);
  if (code) td.title = code;
  return td;
}

function fillTable(table, rows, render) {
  const body = $("tbody", table);
  body.replaceChildren();
  rows.forEach((item) => {
    const tr = document.createElement("tr");
    render(tr, item);
    body.appendChild(tr);
  });
}

async function loadMap(frame, path) {
  // The map page is fetched with the token, then shown through srcdoc: no token in any URL.
  const res = await api(path + (path.includes("?") ? "&" : "?") + "lang=" + state.lang, { raw: true });
  frame.srcdoc = await res.text();
}

// -- sign in / out ----------------------------------------------------------------------------
function keepToken(answer) {
  state.token = answer.access_token;
  sessionStorage.setItem("gridgov.token", state.token);
}

async function signIn(ev) {
  ev.preventDefault();
  const form = new FormData(ev.target);
  // A sign-out still on its way would end the session this sign-in is about to begin.
  if (state.signingOut) await state.signingOut;
  state.signingOut = null;
  try {
    keepToken(await api("/api/login/access-token", {
      method: "POST", form: { username: form.get("username"), password: form.get("password") },
    }));
    ev.target.reset();
    await start();
  } catch (e) {
    // 401 is a wrong name or password; anything else (locked out, server down) says what it is.
    say(e.status === 401 ? t("loginFailed") : e.status ? e.message : t("serverDown"), "error");
  }
}

function signOut() {
  state.token = null;
  state.user = null;
  state.ward = null; // the next user starts afresh
  state.tab = null;
  sessionStorage.removeItem("gridgov.token");
  if (state.poll) clearInterval(state.poll);
  state.poll = null; // else the next sign-in never polls its jobs again
  ["#street-view", "#planner-view", "#logout", "#password", "#password-view"].forEach((s) => { $(s).hidden = true; });
  $("#login-view").hidden = false;
  $("#who").textContent = "";
  $("#ward-name").textContent = "";
  $("#print-plan").textContent = "";
  // Nothing of this user's data stays in the tab for the next one: maps, tables, the lists the
  // roster and plans filled (a planner's roster holds every worker's name), typed form values.
  state.names = {};
  state.rosterWorkers = [];
  $$("iframe").forEach((f) => { f.srcdoc = ""; });
  $$("tbody").forEach((b) => b.replaceChildren());
  ["#ward-select", "#diff-a", "#diff-b", "#roster-worker"].forEach((s) => $(s).replaceChildren());
  $$("form").forEach((f) => f.reset());
}

async function start() {
  state.user = await api("/api/me");
  const role = ROLE_KEYS[state.user.role];
  $("#who").textContent = `${t("signedInAs")}: ${state.user.display_name || state.user.username} (${t(role)})`;
  $("#login-view").hidden = true;
  $("#logout").hidden = false;
  $("#password").hidden = false;
  say("");
  if (state.user.role === "street") await startStreet();
  else await startPlanner();
}

async function changePassword(ev) {
  ev.preventDefault();
  const form = new FormData(ev.target);
  if (form.get("new") !== form.get("repeat")) {
    say(t("passwordsDiffer"), "error");
    return;
  }
  state.renewing = true;
  try {
    // The service ends every earlier session of this account and answers with a new token.
    keepToken(await api("/api/me/password", {
      method: "POST", body: { current_password: form.get("current"), new_password: form.get("new") },
    }));
    ev.target.reset();
    $("#password-view").hidden = true;
    say(t("passwordSaved"));
  } catch (e) {
    say(e.message, "error");
  } finally {
    state.renewing = false;
  }
}

// -- street office ----------------------------------------------------------------------------
async function startStreet() {
  $("#street-view").hidden = false;
  const wards = await api("/api/wards");
  const select = $("#ward-select");
  select.replaceChildren(...wards.map((w) => new Option(`${w.name} (${w.code})`, w.code)));
  select.onchange = () => showWard(select.value, wards);
  // A language switch starts the view again: stay on the ward the office was looking at.
  const code = wards.some((w) => w.code === state.ward) ? state.ward : wards.length ? wards[0].code : null;
  if (code) {
    select.value = code;
    await showWard(code, wards);
  }
  await loadLedger("#street-ledger");
}

async function showWard(code, wards) {
  state.ward = code;
  const ward = wards.find((w) => w.code === code);
  $("#ward-name").textContent = ward ? ward.name : code;
  const workers = await api("/api/workers?ward=" + encodeURIComponent(code));
  Object.assign(state.names, Object.fromEntries(workers.map((w) => [w.worker_id, w.name]))); // for the ledger
  // A sheet on a wall outlives its plan: the printout names the plan and when it was published.
  const plan = await api("/api/wards/" + encodeURIComponent(code) + "/plan");
  $("#print-plan").textContent = plan.plan_id == null ? t("noPlan")
    : t("printPlan", { id: plan.plan_id, at: localTime(plan.published_at).slice(0, 10) });
  // By grid, as the workbook is; workers without a grid here next, those who left last: a
  // clerk must not phone a retired worker because the list looked the same.
  const rank = (w) => (w.status === "retired" ? 2 : w.grids.length ? 0 : 1);
  workers.sort((a, b) => rank(a) - rank(b) || (a.grids[0] || "").localeCompare(b.grids[0] || "") || a.name.localeCompare(b.name, "zh"));
  fillTable($("#street-workers"), workers, (tr, w) => {
    if (w.status === "retired") tr.className = "retired";
    cell(tr, w.name); cell(tr, statusText(w)); cell(tr, w.phone); cell(tr, w.employer); cell(tr, w.sector);
    const grids = cell(tr, w.grids.length ? w.grids.map((g, i) => (w.grid_names || [])[i] || g).join("、") : t("noGrids"));
    grids.title = w.grids.join("、"); // the codes, on hover
  });
  await loadMap($("#ward-map"), "/api/maps/ward/" + encodeURIComponent(code));
}

async function downloadXlsx() {
  const code = $("#ward-select").value;
  await download(`/api/exports/wards/${encodeURIComponent(code)}.xlsx`, `包格台账_${code}.xlsx`);
}

function serverFileName(res) {
  // The service names the file (民生街道_包格台账.xlsx); RFC 5987 filename*=UTF-8''…
  const m = /filename\*=UTF-8''([^;]+)/i.exec(res.headers.get("Content-Disposition") || "");
  return m ? decodeURIComponent(m[1]) : null;
}

async function download(path, name) {
  // Fetched with the token, then saved from a blob: no token in any URL.
  const res = await api(path, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = serverFileName(res) || name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function showMap(path) {
  // Another plan's map, or a diff map, in the map tab (the published one again on the next sign-in).
  state.mapStale = false;
  showTab("map");
  say(t("loading"));
  await loadMap($("#city-map"), path);
  say("");
}

// -- planner ----------------------------------------------------------------------------------
function showTab(name) {
  state.tab = name;
  // Screen readers hear which tab is open, not only sighted users seeing its colour.
  $$(".tabs button").forEach((b) => {
    b.classList.toggle("active", b.dataset.tab === name);
    b.setAttribute("role", "tab");
    b.setAttribute("aria-selected", String(b.dataset.tab === name));
  });
  $$(".tab").forEach((el) => { el.hidden = el.id !== "tab-" + name; });
  // Leaflet fits the map to its frame's size: a map drawn while hidden is redrawn when shown.
  if (name === "ledger") loadLedger().catch((e) => say(e.message, "error"));
  if (name === "map" && state.mapStale) {
    state.mapStale = false;
    loadMap($("#city-map"), "/api/maps/coverage").catch((e) => say(e.message, "error"));
  }
}

async function startPlanner() {
  $("#planner-view").hidden = false;
  // A language switch starts the view again: stay on the tab; the map loads when it is shown.
  const tab = state.tab || "map";
  state.mapStale = tab !== "map";
  showTab(tab);
  // Wards by name on every table (a clerk knows 民生街道, not 410802001); the code on hover.
  state.wardNames = Object.fromEntries((await api("/api/wards")).map((w) => [w.code, w.name]));
  await Promise.all([loadPlans(), loadRoster(), loadJobs()]);
  if (tab !== "map") return;
  try {
    say(t("loading")); // the city map takes seconds to build and draw
    await loadMap($("#city-map"), "/api/maps/coverage");
    say("");
  } catch (e) {
    say(e.message, "error");
  }
}

async function loadPlans() {
  const plans = await api("/api/plans");
  const current = plans.find((p) => p.status === "published");
  fillTable($("#plans"), plans, (tr, p) => {
    tr.dataset.plan = p.plan_id;
    cell(tr, p.plan_id);
    // A draft solved from another plan than the one published now would undo what was published
    // since: say so before anyone presses 发布 (two drafts a minute apart both offered it).
    const stale = p.status === "draft" && current && p.based_on != null && p.based_on !== current.plan_id;
    cell(tr, stale ? t("staleDraft", { id: p.based_on }) : t(p.status)).className = "state-" + p.status;
    cell(tr, localTime(p.created_at));
    cell(tr, p.created_by);
    const s = p.summary || {};
    cell(tr, s.grids != null ? `${s.covered}/${s.grids}` : "");
    // Grids whose worker differs from the plan it was solved from (older plans: moves only).
    cell(tr, s.grids_changed != null ? s.grids_changed : s.moves != null ? s.moves : "");
    const td = cell(tr, "");
    const button = (cls, label, onclick) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = t(label);
      b.onclick = () => onclick().catch((e) => say(e.message, "error"));
      td.appendChild(b);
    };
    // Look before publishing: the plan's own map and its workbook, drafts included.
    button("plan-map", "showMap", () => showMap(`/api/maps/coverage?plan_id=${p.plan_id}`));
    button("plan-xlsx", "workbook", () => download(`/api/exports/plan.xlsx?plan_id=${p.plan_id}`,
                                                    `全市方案_${p.plan_id}.xlsx`));
    if (p.status === "draft") button("publish", "publish", () => publish(p.plan_id));
  });
  const opts = () => plans.map((p) => new Option(`#${p.plan_id} ${t(p.status)}`, p.plan_id));
  $("#diff-a").replaceChildren(...opts());
  $("#diff-b").replaceChildren(...opts());
  const pub = plans.find((p) => p.status === "published");
  if (pub) $("#diff-a").value = pub.plan_id;
  if (plans.length) $("#diff-b").value = plans[0].plan_id;
}

async function publish(id) {
  if (!window.confirm(t("confirmPublish", { id }))) return;
  try {
    try {
      await api(`/api/plans/${id}/publish`, { method: "POST" });
    } catch (e) {
      // 409: the plan was solved from an older published plan; publishing it rolls back.
      if (e.status !== 409 || !window.confirm(e.message + "\n\n" + t("confirmRollBack"))) throw e;
      await api(`/api/plans/${id}/publish?force=true`, { method: "POST" });
    }
    say(t("publishedOk", { id }), "ok");
    await loadPlans();
    state.mapStale = true;
  } catch (e) {
    say(e.message, "error");
  }
}

async function runDiff() {
  const a = $("#diff-a").value, b = $("#diff-b").value;
  $("#diff-map").hidden = false;
  const d = await api(`/api/plans/${a}/diff/${b}`);
  const who = (id) => (id ? (state.names[id] ? `${state.names[id]}（${id}）` : id) : "—");
  fillTable($("#diff"), d.moves, (tr, m) => {
    cell(tr, m.grid_code); wardCell(tr, m.ward_code); cell(tr, who(m.before)); cell(tr, who(m.after));
  });
  if (!d.moves.length) say(t("noMoves"));
}

function statusText(w) {
  // An absence booked ahead: the worker keeps their grids until it starts, and the solver knows.
  const today = localTime(new Date().toISOString()).slice(0, 10);
  if (w.status === "unavailable" && w.unavailable_from && w.unavailable_from > today) {
    return t("awayFrom", { date: w.unavailable_from });
  }
  // An absence that is over: the worker is available again (the solver goes by the dates too).
  if (w.status === "unavailable" && w.unavailable_to && w.unavailable_to < today) return t("active");
  if (w.status === "unavailable" && w.unavailable_to) return t("awayUntil", { date: w.unavailable_to });
  return t(w.status || "active");
}

// Field names of ledger entries as the Chinese page shows them (the English page keeps the keys).
const FIELD_ZH = {
  worker_id: "编号", name: "姓名", phone: "电话", employer: "单位", sector: "行业", honours: "荣誉",
  home_ward: "居住街道", status: "状态", capacity: "承担能力", unavailable_from: "暂不可用起",
  unavailable_to: "暂不可用止", code: "网格编码", ward_code: "街道代码", kind: "类别",
  households: "户数", population: "人口", published: "发布的方案", grids_changed: "换人网格数",
  county_code: "区县代码", role: "角色", wards: "负责街道", display_name: "显示名称", disabled: "停用",
  password: "密码", file: "文件", rows: "行数", inserted: "新增", updated: "更新", unchanged: "未变",
};
// An account's role -> its words' key in I18N.
const ROLE_KEYS = { admin: "roleAdmin", planner: "rolePlanner", street: "roleStreet" };
// Bookkeeping a planner does not act on: which ledger entry each ward's roster was read up to.
const LEDGER_HIDDEN = new Set(["ledger_seen"]);

function changeText(before, after, action = "") {
  // "field: old → new" per changed field; a point or a boundary reads as such, not as WKT;
  // honours by their titles.
  const shown = (k, v) => (v == null ? "—" : /^POINT/.test(String(v)) ? t("point")
    : /^(MULTI)?POLYGON/.test(String(v)) ? t("boundary")
    : k === "role" ? t(ROLE_KEYS[v] || String(v))
    : k === "password" ? t("passwordChanged")
    : k === "disabled" ? t(v ? "yes" : "no")
    : Array.isArray(v) ? v.map((h) => (h && h.title) || (typeof h === "object" ? JSON.stringify(h) : h)).join("、")
    : typeof v === "object" ? JSON.stringify(v) : k === "status" ? t(String(v)) : String(v));
  const label = (k) => (state.lang === "en" ? k
    : k === "geometry" ? (action.startsWith("worker.") ? "住址坐标" : "边界") : FIELD_ZH[k] || k);
  return Object.keys(after || {}).filter((k) => !LEDGER_HIDDEN.has(k))
    .map((k) => `${label(k)}：${shown(k, (before || {})[k])} → ${shown(k, after[k])}`).join("；");
}

function actorText(actor) {
  // The CLI and the demo write as "cli" and "demo"; people write under their account names.
  return actor === "cli" ? t("actorCli") : actor === "demo" ? t("actorDemo") : actor;
}

function subjectText(e) {
  const plan = /^plan (\d+)$/.exec(e.subject || "");
  if (plan) return t("planN", { id: plan[1] });
  // A worker by name (a clerk's list shows names, not ids), the id beside it.
  const name = e.action.startsWith("worker.") && state.names[e.subject];
  return name ? `${name}（${e.subject}）` : e.subject;
}

async function loadLedger(table = "#ledger") {
  // Every change is on the ledger (工作台账): who, when, what, before → after. A street office
  // gets its own workers' entries only (the service scopes them).
  const entries = await api("/api/ledger?limit=200");
  fillTable($(table), entries, (tr, e) => {
    cell(tr, localTime(e.at)); cell(tr, actorText(e.actor)); cell(tr, state.lang === "en" ? e.action : e.action_label);
    const subject = cell(tr, subjectText(e));
    // A deletion shows the whole record it took away; a planner can put it back from here.
    const gone = e.action === "worker.remove" ? Object.fromEntries(Object.keys(e.before || {}).map((k) => [k, null])) : null;
    cell(tr, changeText(e.before, gone || e.after, e.action));
    if (e.action === "worker.remove" && table === "#ledger" && state.names && !(e.subject in state.names)) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "restore";
      b.textContent = t("restore");
      b.onclick = () => restoreWorker(e.subject).catch((err) => say(err.message, "error"));
      subject.append(" ", b);
    }
  });
}

async function restoreWorker(id) {
  await api(`/api/workers/${encodeURIComponent(id)}/restore`, { method: "POST" });
  await loadRoster(); // first: the ledger's restore buttons read the roster
  await Promise.all([loadLedger(), loadJobs()]);
  say(t("restoredOk", { id }), "ok"); // once the roster shows them back
}

async function loadRoster() {
  const workers = await api("/api/workers");
  state.names = Object.fromEntries(workers.map((w) => [w.worker_id, w.name])); // for the diff table
  state.rosterWorkers = workers;
  fillWorkerSelect();
  fillTable($("#planner-workers"), workers, (tr, w) => {
    cell(tr, w.worker_id); cell(tr, w.name); wardCell(tr, w.home_ward); cell(tr, statusText(w));
    cell(tr, w.capacity); cell(tr, w.grids.length ? w.grids.join("、") : t("noGrids"));
  });
}

function fillWorkerSelect() {
  // 1,500 workers in one select: the search box keeps those whose name or id holds what is typed.
  const chosen = $("#roster-worker").value; // a reload after a change keeps the worker chosen
  const typed = ($("#roster-find").value || "").trim().toLowerCase();
  const shown = (state.rosterWorkers || []).filter((w) => !typed || w.name.toLowerCase().includes(typed)
    || w.worker_id.toLowerCase().includes(typed));
  $("#roster-worker").replaceChildren(...shown.map((w) => new Option(`${w.worker_id} ${w.name}`, w.worker_id)));
  if (chosen && shown.some((w) => w.worker_id === chosen)) $("#roster-worker").value = chosen;
}

function rosterOptions() {
  const action = $("#roster-action").value;
  $$(".opt").forEach((el) => { el.hidden = !el.classList.contains("opt-" + action); });
}

async function rosterSubmit(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const id = encodeURIComponent(f.get("worker"));
  const action = f.get("action");
  let body;
  if (action === "unavailable") body = { start: f.get("start"), end: f.get("end") || null };
  if (action === "capacity") body = { capacity: Number(f.get("capacity")) };
  if (action === "remove" && !window.confirm(t("confirmRemove", { id: f.get("worker") }))) return;
  try {
    let r;
    try {
      r = await api(`/api/workers/${id}/${action}`, { method: "POST", body });
    } catch (e) {
      // 409 on 恢复可用: the worker has retired; bringing them back is confirmed on its own.
      // 409 on 暂不可用: it would replace an absence not over yet; confirmed too.
      const retry = { available: ["confirmReinstate", "reinstate"], unavailable: ["confirmReplace", "replace"] }[action];
      if (e.status !== 409 || !retry || (action === "unavailable" && !/replace/.test(e.messageEn || "")) ||
          !window.confirm(e.message + "\n\n" + t(retry[0]))) throw e;
      r = await api(`/api/workers/${id}/${action}?${retry[1]}=true`, { method: "POST", body });
    }
    if (action === "remove") {
      const dead = (r.drafts_unpublishable || []).join("、");
      say(t("removedOk", { id: r.worker_id }) + (dead ? "；" + t("draftsDead", { ids: dead }) : ""), "ok");
    } else {
      say(r.job_id ? t("queuedOk", { id: r.job_id }) : t("noChange"), "ok");
    }
    await Promise.all([loadRoster(), loadJobs()]);
    if (r.job_id) showTab("jobs");
  } catch (e) {
    say(e.message, "error");
  }
}

async function solve(changed) {
  // A city solve takes minutes and moves grids in every ward: ask first.
  if (!changed && !window.confirm(t("confirmSolveCity"))) return;
  try {
    const job = await api("/api/plans/solve", { method: "POST", body: { changed } });
    say(t("queuedOk", { id: job.job_id }), "ok");
    await loadJobs();
    showTab("jobs");
  } catch (e) {
    say(e.message, "error");
  }
}

function inLanguage(text) {
  // Job messages are stored as "中文 / English": show the page's language.
  const i = text.indexOf(" / ");
  if (i < 0) return text;
  return state.lang === "en" ? text.slice(i + 3) : text.slice(0, i);
}

async function loadJobs() {
  const jobs = await api("/api/jobs?limit=20");
  fillTable($("#jobs"), jobs, (tr, j) => {
    tr.dataset.job = j.job_id;
    cell(tr, j.job_id);
    cell(tr, t(j.status)).className = "state-" + j.status;
    const p = j.progress || {};
    const td = cell(tr, "");
    const bar = document.createElement("progress");
    bar.max = p.total || 1;
    bar.value = p.done || 0;
    td.appendChild(bar);
    td.append(` ${p.done || 0}/${p.total || 0}`);
    cell(tr, j.plan_id || "");
    cell(tr, inLanguage(j.message || ""));
    cell(tr, localTime(j.created_at));
  });
  const busy = jobs.some((j) => j.status === "queued" || j.status === "running");
  if (busy && !state.poll) {
    state.poll = setInterval(async () => {
      const before = $("#jobs tbody").textContent;
      await loadJobs();
      if ($("#jobs tbody").textContent !== before) await loadPlans();
    }, 1000);
  } else if (!busy && state.poll) {
    clearInterval(state.poll);
    state.poll = null;
  }
}

// -- wiring -----------------------------------------------------------------------------------
const LEDGER_COLUMNS = ["at", "actor", "action", "subject", "changes"];

function init() {
  // One header for both ledger tables (planner tab, street office); applyLang fills the words.
  $$(".ledger-table thead").forEach((head) => {
    const tr = document.createElement("tr");
    LEDGER_COLUMNS.forEach((key) => {
      const th = document.createElement("th");
      th.dataset.i18n = key;
      tr.appendChild(th);
    });
    head.replaceChildren(tr);
  });
  applyLang();
  $("#lang").onclick = () => {
    state.lang = state.lang === "en" ? "zh" : "en";
    localStorage.setItem("gridgov.lang", state.lang);
    applyLang();
    if (state.user) start();
  };
  $("#login-form").addEventListener("submit", signIn);
  $("#password").onclick = () => {
    $("#password-view").hidden = false;
    $("#password-form input").focus();
  };
  $("#password-cancel").onclick = () => {
    $("#password-form").reset();
    $("#password-view").hidden = true;
  };
  $("#password-form").addEventListener("submit", changePassword);
  $("#logout").onclick = () => {
    // The service ends every session of this account, so a copied token stops working too;
    // the page signs out even when the service cannot be reached.
    if (state.token) {
      state.signingOut = fetch("/api/logout", { method: "POST", headers: { Authorization: "Bearer " + state.token } })
        .catch(() => {});
    }
    signOut();
  };
  // Ctrl+P prints too, not only the button: the time is filled just before either.
  window.addEventListener("beforeprint", () => { $("#printed-at").textContent = localTime(new Date().toISOString()); });
  $("#print").onclick = () => window.print();
  $("#ward-xlsx").onclick = () => downloadXlsx().catch((e) => say(e.message, "error"));
  $$(".tabs button").forEach((b) => { b.onclick = () => showTab(b.dataset.tab); });
  $("#diff-run").onclick = () => runDiff().catch((e) => say(e.message, "error"));
  $("#diff-map").onclick = () => showMap(`/api/maps/diff?a=${$("#diff-a").value}&b=${$("#diff-b").value}`)
    .catch((e) => say(e.message, "error"));
  $("#solve").onclick = () => solve(false);
  $("#solve-changed").onclick = () => solve(true);
  $("#roster-action").onchange = rosterOptions;
  $("#roster-find").oninput = fillWorkerSelect;
  $("#roster-form").addEventListener("submit", rosterSubmit);
  rosterOptions();
  if (state.token) start().catch((e) => { signOut(); say(e.message, "error"); });
}

init();
