// The check-in scanner: camera (decoder.js: BarcodeDetector, else ZXing-C++ in WebAssembly), handheld scanner keystrokes,
// name search, a big coloured answer with sound and vibration, undo, live counts, and an offline queue
// that syncs when the network is back (the server settles duplicates: every scan carries a nonce).

import { KeyWedge, codesIn, loadSettings, looksLikeCode, saveSettings } from "./scanner-input.js";

const root = document.getElementById("scanner");
const $ = (id) => document.getElementById(id);
const config = {
  scanUrl: root.dataset.scanUrl,
  undoUrl: root.dataset.undoUrl,
  searchUrl: root.dataset.searchUrl,
  countsUrl: root.dataset.countsUrl,
  expectedUrl: root.dataset.expectedUrl,
  user: root.dataset.user,
  userName: root.dataset.userName,
  csrf: document.querySelector('meta[name="csrf-token"]').content,
};

const DEBOUNCE_MS = 3000;      // a handheld scanner sending the same code again within this: the same scan
const IN_VIEW_MS = 10000;      // a badge the camera keeps seeing is answered once, until another code or this long unseen
const RESULT_MS = 2500;        // how long the big answer covers the lower half
const TOGETHER_MS = 2000;      // answers this close together are shown together (two badges at once)
const COUNTS_EVERY_MS = 10000;
const SYNC_EVERY_MS = 5000;
// A scan is answered or queued within 1.5 s: a server that has not answered by then is treated as offline.
const SCAN_TIMEOUT_MS = 1200;
const BACKGROUND_TIMEOUT_MS = 5000;  // syncing and counts: nobody is waiting at the door for these
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];  // backoff while the server is not answering
const QUEUE_KEY = "nh-checkin-queue-v1";
const EXPECTED_KEY = "nh-expected-v1";  // the expected lists for the name search offline (cleared on sign-out)
const EXPECTED_EVERY_MS = 5 * 60 * 1000;

const eventPicker = $("event");
const resultBox = $("result");
let lastReads = new Map();     // "event|code" -> time of the last read handled
let inView = { key: null, seenAt: 0 };  // the last code answered, and when the camera last saw it
let lastAdmitted = null;       // {code, ref, event, name, queued, nonce} for Undo
let resultTimer = null;
let syncing = false;

// --- small helpers ------------------------------------------------------------------------------

function newNonce() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function timeOf(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString("en-GB", { timeZone: "Europe/London", hour: "numeric", minute: "2-digit", hour12: true })
    .replace(/\s?([ap])m$/i, "$1m");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
  use.setAttribute("href", `#icon-${name}`);
  svg.append(use);
  return svg;
}

// Rejects (a network error, or the timeout's AbortError) when there is no answer in time.
async function request(method, url, body, timeout = BACKGROUND_TIMEOUT_MS) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  try {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json", "X-CSRFToken": config.csrf } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: controller.signal,
    });
    let data = null;
    try { data = await response.json(); } catch (_) { /* not JSON: treated as a server problem */ }
    return { status: response.status, data, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
  } finally {
    clearTimeout(timer);
  }
}

// --- sound and vibration --------------------------------------------------------------------------

let audio = null;
function unlockAudio() {
  // Browsers only let a page make sound after a tap: the first tap anywhere sets it up.
  if (audio) return;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio = new Context();
  if (audio.state === "suspended") audio.resume();
}
document.addEventListener("pointerdown", unlockAudio, { once: true });
document.addEventListener("keydown", unlockAudio, { once: true });

function beep(tone) {
  const patterns = {  // [frequency Hz, seconds] per note
    ok: [[880, 0.12]],
    warning: [[660, 0.1], [0, 0.06], [660, 0.1]],
    error: [[220, 0.45]],
    queued: [[520, 0.12]],
  };
  const vibrations = { ok: [80], warning: [80, 60, 80], error: [300], queued: [40] };
  if (navigator.vibrate) navigator.vibrate(vibrations[tone] || 0);
  if (!audio) return;
  let at = audio.currentTime;
  for (const [frequency, length] of patterns[tone] || []) {
    if (frequency) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = tone === "error" ? "square" : "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.25, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + length);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + length);
    }
    at += length;
  }
}

// --- the answer -----------------------------------------------------------------------------------

const REFUSALS = {
  invalid: ["Not a valid badge", "This code isn't one of ours, or it has been replaced or withdrawn. Ask for photo ID and call an organiser."],
  cancelled: ["Place cancelled", "They gave their place back. Call an organiser: there may be a place on the day."],
  not_registered: ["Not registered", "They're invited but have no confirmed place at the summit. Call an organiser."],
  wrong_event: ["Wrong event", "This scanner's event can't be checked in to. Check the event picker at the top."],
};

function describe(answer, event) {
  const person = answer.person || {};
  if (answer.status === "not_registered" && event && event !== "summit") {
    return { tone: "error", word: "Not signed up",
             detail: "They haven't signed up for this event. Find them by name to check them in as a walk-in." };
  }
  switch (answer.status) {
    case "ok":
      return { tone: "ok", word: "Checked in", detail: "" };
    case "already_checked_in":
      return {
        tone: "warning", word: "Already checked in",
        detail: `at ${timeOf(answer.checked_in_at)}${answer.checked_in_by ? ` by ${answer.checked_in_by}` : ""}`,
      };
    case "incomplete":  // a typo or a misread, not a forgery: the code's check character caught it
      return { tone: "warning", word: "Code incomplete", detail: "That code doesn't look complete — scan it again or type it carefully." };
    default: {
      const [word, detail] = REFUSALS[answer.status] || ["Not accepted", "Call an organiser."];
      return { tone: "error", word, detail };
    }
  }
}

function renderNeeds(list, needs) {
  list.replaceChildren();
  for (const need of needs || []) {
    list.append(el("li", { class: `need need--${need.kind}` }, icon(need.kind),
      el("span", {}, el("strong", { text: `${need.label}: ` }), need.text)));
  }
}

// Scans answered close together (two badges at once, or a scanner that sent two codes) are all shown:
// the newest in full, the ones before it in a list under it, each with its word and name.
let together = [];
let shownAt = 0;

const ALSO_ROWS = 3;

function showResult({ tone, word, name = "", org = "", detail = "", needs = [], undo = false, scan = false, code = "" }) {
  const now = Date.now();
  together = scan && !resultBox.hidden && now - shownAt < TOGETHER_MS ? together : [];
  const earlier = together.slice().reverse();
  if (scan) together.push({ tone, word, name: name || (code ? `Badge …${code.slice(-4)}` : "Badge") });
  shownAt = now;
  const rows = earlier.slice(0, ALSO_ROWS).map((item) => el("li", { class: "result__also-item" },
    el("span", { class: `pill pill--${item.tone === "queued" ? "info" : item.tone}`, text: item.word }), " ",
    el("strong", { text: item.name })));
  if (earlier.length > ALSO_ROWS) rows.push(el("li", { class: "small", text: `and ${earlier.length - ALSO_ROWS} more: see Last scans` }));
  $("result-also").replaceChildren(...rows);
  $("result-also").hidden = !earlier.length;
  resultBox.className = `result result--${tone}`;
  $("result-word").textContent = word;
  $("result-name").textContent = name;
  $("result-org").textContent = org;
  $("result-detail").textContent = detail;
  renderNeeds($("result-needs"), needs);
  $("result-undo").hidden = !undo;
  resultBox.hidden = false;
  beep(tone);
  clearTimeout(resultTimer);
  // Needs stay up longer: the steward has to read them out.
  resultTimer = setTimeout(hideResult, needs.length ? RESULT_MS * 2 : RESULT_MS);
}

function hideResult() {
  resultBox.hidden = true;
  if (document.activeElement === document.body || resultBox.contains(document.activeElement)) focusHandheld();
}

const RECENT_ROWS = 8;

// A row in "Last scans". A saved scan's row has its nonce as id, and its outcome takes its place on sync.
function addRecent({ tone, word, name, detail, code, ref, event, undo, id = "" }) {
  const item = el("li", { class: `recent recent--${tone}` },
    el("span", { class: `pill pill--${tone === "queued" ? "info" : tone}`, text: word }), " ",
    el("strong", { text: name || `Badge …${code.slice(-4)}` }),
    detail ? el("span", { class: "small", text: ` ${detail}` }) : null);
  if (id) item.dataset.id = id;
  if (undo) {
    const button = el("button", { type: "button", class: "link-button", text: "Undo" });
    button.addEventListener("click", () => undoCheckin({ code, ref, event, name }));
    item.append(" ", button);
  }
  const list = $("recent");
  const queued = id ? Array.from(list.children).find((row) => row.dataset.id === id) : null;
  if (queued) {
    queued.replaceWith(item);
  } else if (tone === "queued" || !id) {
    list.prepend(item);
  }  // else: a synced scan whose queued row has already scrolled off; its problem, if any, is listed below
  while (list.children.length > RECENT_ROWS) list.lastChild.remove();
}

function answered(scan, answer, { synced = false } = {}) {
  const shown = describe(answer, scan.event);
  const person = answer.person || {};
  const undo = answer.status === "ok";
  if (undo) lastAdmitted = { code: scan.code, ref: scan.ref, event: scan.event, name: person.name };
  if (!synced) {
    showResult({ ...shown, name: person.name || "", org: person.organisation || "", needs: person.needs, undo, scan: true });
  }
  addRecent({ tone: shown.tone, word: synced ? `${shown.word} (synced)` : shown.word, name: person.name,
              detail: shown.tone === "warning" ? shown.detail : "", code: scan.code, ref: scan.ref, event: scan.event, undo,
              id: synced ? scan.nonce : "" });
  // Offline the door was told "let them in": any other answer is a problem to follow up.
  if (synced && answer.status !== "ok") addProblem(scan, { ...shown, detail: syncedDetail(answer, shown) }, person);
  refreshCounts();
}

function syncedDetail(answer, shown) {
  if (answer.status !== "already_checked_in") return shown.detail;
  const by = answer.checked_in_by;
  const who = !by ? "" : by === config.userName ? " by you" : ` by ${by} at another door`;
  return `at ${timeOf(answer.checked_in_at)}${who}`;
}

// --- problems after a sync: kept on this device until the steward dismisses each one ----------------------

const PROBLEMS_KEY = "nh-checkin-problems-v1";

function loadProblems() {
  try { return JSON.parse(localStorage.getItem(PROBLEMS_KEY) || "[]"); } catch (_) { return []; }
}

function saveProblems(problems) {
  localStorage.setItem(PROBLEMS_KEY, JSON.stringify(problems));
  showProblems();
}

function addProblem(scan, shown, person) {
  const problems = loadProblems().filter((problem) => problem.id !== scan.nonce);
  problems.push({
    id: scan.nonce, user: config.user, event: scan.event, code: scan.code || "", scannedAt: scan.at,
    word: shown.word, detail: shown.detail || "", name: person.name || scan.name || "", organisation: person.organisation || "",
  });
  saveProblems(problems);
}

function showProblems() {
  const problems = loadProblems().filter((problem) => problem.user === config.user);
  $("problems").hidden = !problems.length;
  $("problem-list").replaceChildren(...problems.map((problem) => {
    const dismiss = el("button", { type: "button", class: "button button--secondary problem__dismiss", text: "Dismiss" });
    const who = problem.name || `Badge …${problem.code.slice(-4)}`;
    dismiss.setAttribute("aria-label", `Dismiss: ${who}`);
    dismiss.addEventListener("click", () => saveProblems(loadProblems().filter((item) => item.id !== problem.id)));
    return el("li", { class: "problem" },
      el("p", {}, el("strong", { text: who }), problem.organisation ? el("span", { class: "small", text: `, ${problem.organisation}` }) : null),
      el("p", {}, el("span", { class: "pill pill--error", text: problem.word }), problem.detail ? ` ${problem.detail}` : ""),
      el("p", { class: "small", text: `Let in while offline at ${timeOf(problem.scannedAt)}.` }),
      dismiss);
  }));
}

// --- scanning ---------------------------------------------------------------------------------------

function currentEvent() {
  return eventPicker.value;
}

// --- the event: the one on now or next today (London), its name and date always in sight ---------------

const CONFIRMED_KEY = "nh-checkin-confirmed-events-v1";  // events not on today that the steward said yes to

function londonDay(date = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

function eventOptions() {
  return Array.from(eventPicker.options).filter((option) => option.value);
}

function isToday(option, now = new Date()) {
  const today = londonDay(now);
  return Boolean(option && option.dataset.firstDay && option.dataset.firstDay <= today && today <= option.dataset.lastDay);
}

// The same rule as the server's (checkin.services.today_event): on now, else next to start today, else none.
// Worked out here too because a page saved for offline use may be opened on a later day.
function todayEvent(now = new Date()) {
  const today = eventOptions().filter((option) => isToday(option, now));
  const starts = (option) => new Date(option.dataset.starts);
  const onNow = today.filter((option) => starts(option) <= now && now <= new Date(option.dataset.ends));
  if (onNow.length) return onNow.reduce((a, b) => (starts(b) > starts(a) ? b : a)).value;
  const later = today.filter((option) => starts(option) > now);
  if (later.length) return later.reduce((a, b) => (starts(b) < starts(a) ? b : a)).value;
  return "";
}

function showEvent() {
  const option = eventPicker.selectedOptions[0];
  const chosen = Boolean(option && option.value);
  $("event-title").textContent = chosen ? option.dataset.title : "No event chosen";
  $("event-when").textContent = chosen ? (option.dataset.when || "") : "";
  $("event-not-today").hidden = !chosen || isToday(option);
  $("event-choose").hidden = chosen;
  root.dataset.event = chosen ? option.value : "";
}

function confirmedEvents() {
  try { return JSON.parse(sessionStorage.getItem(CONFIRMED_KEY) || "{}"); } catch (_) { return {}; }
}

let held = null;  // the scan waiting for the steward to say the event is right
function askAboutEvent(retry) {
  if (held) return;  // already asking
  held = retry;
  const option = eventPicker.selectedOptions[0];
  $("event-confirm-text").textContent =
    `${option.dataset.title} is on ${option.dataset.when || "another day"}, not today. Check people in to it?`;
  $("event-confirm").hidden = false;
  $("event-confirm-yes").focus();
}

$("event-confirm-yes").addEventListener("click", () => {
  const confirmed = confirmedEvents();
  confirmed[currentEvent()] = londonDay();
  sessionStorage.setItem(CONFIRMED_KEY, JSON.stringify(confirmed));
  $("event-confirm").hidden = true;
  const retry = held;
  held = null;
  if (retry) retry();
});
$("event-confirm-no").addEventListener("click", () => {
  held = null;
  $("event-confirm").hidden = true;
  eventPicker.focus();
});

function eventChecked(retry) {
  // True when a scan may go ahead for the chosen event; otherwise asks, and retry() runs on a yes.
  const option = eventPicker.selectedOptions[0];
  if (!option || !option.value) {
    showResult({ tone: "error", word: "Choose the event first", detail: "Pick the event at the top, then scan again." });
    return false;
  }
  if (isToday(option) || confirmedEvents()[option.value] === londonDay()) return true;
  askAboutEvent(retry);
  return false;
}

// After eventChecked: whether the steward said yes to an event that isn't on today. The server is told so
// (`confirmed`), as it refuses such an event otherwise.
function stewardConfirmed() {
  const option = eventPicker.selectedOptions[0];
  return Boolean(option && option.value && !isToday(option));
}

// What a scan sends: its code, or the reference of someone found by name (the search gives no codes).
function scanBody(scan) {
  const body = scan.ref ? { ref: scan.ref, event: scan.event, nonce: scan.nonce }
    : { code: scan.code, event: scan.event, method: scan.method, nonce: scan.nonce };
  if (scan.confirmed) body.confirmed = true;
  if (scan.walkIn) body.walk_in = true;  // a fringe walk-in, chosen from the name search on purpose
  return body;
}

async function submitCode(raw, method, { force = false } = {}) {
  const code = String(raw || "").trim().toUpperCase();
  if (!code) return;
  const event = currentEvent();
  const key = `${event}|${code}`;
  const now = Date.now();
  if (method === "camera" && !force) {
    // A badge left in view is answered once: again only after another code, or once it has been out of
    // sight for a while (the camera reads it many times a second).
    const still = inView.key === key && now - inView.seenAt < IN_VIEW_MS;
    if (inView.key === key) inView.seenAt = now;
    if (still) return;
  } else if (!force && now - (lastReads.get(key) || 0) < DEBOUNCE_MS) {
    return;  // a scanner that sent the same code twice
  }
  if (!eventChecked(() => submitCode(raw, method, { force: true }))) {
    inView = { key, seenAt: now };  // asked once, not once a frame
    return;
  }
  lastReads.set(key, now);
  inView = { key, seenAt: now };
  const scan = { code, event, method, nonce: newNonce(), at: new Date().toISOString(), user: config.user,
                 confirmed: stewardConfirmed() };
  await send(scan);
}

async function send(scan) {
  if (!serverReachable()) {
    enqueue(scan);  // offline, or the server has stopped answering: don't keep the door waiting
    return;
  }
  let reply;
  try {
    reply = await request("POST", config.scanUrl, scanBody(scan), SCAN_TIMEOUT_MS);
  } catch (_) {
    // No answer in time (or the network went mid-request). The server may still have it: the nonce makes
    // sending it again safe, and the sync gets the first answer back.
    linkDown(navigator.onLine ? "silent" : "offline");
    enqueue(scan);
    return;
  }
  if (reply.status === 200 && reply.data) {
    syncBlocked = "";
    linkUp();
    answered(scan, reply.data);
  } else if (reply.status === 429 || reply.status >= 500 || reply.data === null) {
    linkDown(reply.status === 429 ? "busy" : "broken", reply.retryAfter);
    enqueue(scan);
  } else if (reply.status === 401 || reply.status === 403) {
    enqueue(scan);
    signedOut(reply.data && reply.data.error);
  } else if (reply.data && reply.data.reload) {
    enqueue(scan, "This page needs reloading");  // its token is out of date: keep the scan, ask for a reload
    pageExpired(reply.data.error);
  } else {
    showResult({ tone: "error", word: "Not sent", detail: (reply.data && reply.data.error) || "The server refused that scan." });
  }
}

// --- the link to the server ---------------------------------------------------------------------------
// What the bar says is what the page last saw: the browser offline, the server silent (requests timing
// out), busy (429) or failing (5xx). While it is down, scans go straight to the queue and the page
// retries in the background with growing pauses, then syncs by itself once the server answers.

const LINK_WORDS = {
  online: "Online",
  offline: "Offline — saving scans",
  silent: "Server not answering — saving scans",
  busy: "Server busy — saving scans",
  broken: "Server error — saving scans",
};
const link = { state: navigator.onLine ? "online" : "offline", failures: 0, retryAt: 0 };
let retryTimer = null;

function serverReachable() {
  return navigator.onLine && link.state === "online";
}

function linkUp({ counted = false } = {}) {
  const wasDown = link.state !== "online";
  link.state = "online";
  link.failures = 0;
  link.retryAt = 0;
  clearTimeout(retryTimer);
  showLink();
  if (wasDown && !counted) refreshCounts();
  if (wasDown) refreshExpected();
  if (mine(loadQueue()).length) syncSoon();
}

function linkDown(state, retryAfterSeconds = 0) {
  link.state = state;
  link.failures += 1;
  const pause = RETRY_MS[Math.min(link.failures - 1, RETRY_MS.length - 1)];
  const jitter = Math.random() * 0.2 * pause;  // several phones at one door don't all retry at once
  link.retryAt = Date.now() + Math.max(pause + jitter, retryAfterSeconds * 1000);
  showLink();
  clearTimeout(retryTimer);
  if (state !== "offline") retryTimer = setTimeout(probe, link.retryAt - Date.now());
}

async function probe() {
  // Is the server answering again? The first queued scan is the question, else the counts.
  if (!navigator.onLine) return;
  if (mine(loadQueue()).length) await sync({ probing: true });
  else await refreshCounts({ probing: true });
}

function showLink() {
  const label = $("network");
  label.textContent = LINK_WORDS[navigator.onLine ? link.state : "offline"];
  label.classList.toggle("scanner__net--offline", !serverReachable());
  root.dataset.link = navigator.onLine ? link.state : "offline";
}

// --- the offline queue ------------------------------------------------------------------------------

function loadQueue() {
  try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (_) { return []; }
}

function saveQueue(queue) {
  localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
  showPending();
}

function mine(queue) {
  return queue.filter((item) => item.user === config.user);
}

function enqueue(scan, why = navigator.onLine ? "The server isn't answering" : "No network") {
  showLink();
  const queue = loadQueue();
  const twin = queue.find((item) => (item.ref || item.code) === (scan.ref || scan.code) && item.event === scan.event);
  if (twin) {
    showResult({ tone: "queued", word: "Already saved", detail: "This badge is already waiting to sync.", scan: true, code: scan.code });
    return;
  }
  queue.push(scan);
  saveQueue(queue);
  lastAdmitted = { code: scan.code, event: scan.event, queued: true, nonce: scan.nonce };
  showResult({ tone: "queued", word: "Saved offline", undo: true, scan: true, code: scan.code, name: scan.name || "",
               detail: `${why}: let them in if the badge looks right. It is checked when the server answers again.` });
  addRecent({ tone: "queued", word: "Queued", name: scan.name || "", code: scan.code, event: scan.event, id: scan.nonce });
}

function showPending() {
  const queue = loadQueue();
  const count = mine(queue).length;
  $("pending").textContent = String(count);
  $("status-bar").classList.toggle("scanner__bar--pending", count > 0);
  const others = queue.length - count;
  $("sync-status").textContent = others
    ? `${others} scan${others === 1 ? "" : "s"} saved on this phone by another account will sync when they sign in here.`
    : (count ? syncBlocked : $("sync-status").textContent);
}

// Why this page can't send its saved scans (it has expired, or the steward is signed out): said for as long as
// scans wait, through every attempt to sync, until one goes through.
let syncBlocked = "";

let syncTimer = null;
function syncSoon(delay = 0) {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(sync, delay);
}

async function sync({ probing = false } = {}) {
  if (syncing || !navigator.onLine) return;
  if (!probing && link.state !== "online") return;  // the retry timer asks when it is time
  const queue = mine(loadQueue());
  if (!queue.length) return;
  syncing = true;
  let synced = 0;
  try {
    for (const scan of queue) {
      let reply;
      try {
        reply = await request("POST", config.scanUrl, scanBody(scan));
      } catch (_) {
        linkDown(navigator.onLine ? "silent" : "offline");
        break;  // still no answer: the retry timer tries again later
      }
      if (reply.status === 429 || reply.status >= 500 || reply.data === null) {
        linkDown(reply.status === 429 ? "busy" : "broken", reply.retryAfter);
        break;
      }
      if (reply.status === 401 || reply.status === 403) {
        signedOut(reply.data && reply.data.error);
        break;
      }
      if (reply.data && reply.data.reload) {
        pageExpired(reply.data.error);
        break;  // kept: they sync once the page is reloaded
      }
      if (link.state !== "online") { link.state = "online"; link.failures = 0; showLink(); }
      syncBlocked = "";
      saveQueue(loadQueue().filter((item) => item.nonce !== scan.nonce));
      if (reply.status === 200) {
        synced += 1;
        answered(scan, reply.data, { synced: true });
      } else {
        addProblem(scan, { word: "Not accepted", detail: (reply.data && reply.data.error) || "" }, {});
      }
    }
  } finally {
    syncing = false;
  }
  if (synced) {
    $("sync-status").textContent = `Synced ${synced} saved scan${synced === 1 ? "" : "s"} at ${timeOf(new Date().toISOString())}.`;
    if (link.state === "online") linkUp();  // the counts, and anything queued meanwhile
  }
  showPending();
}

function pageExpired(message) {
  syncBlocked = message || "This page has expired. Reload it to send the saved scans.";  // the server's says reload
  $("sync-status").textContent = syncBlocked;
}

function signedOut(message) {
  forgetExpected();  // the expected list is kept only while the steward is signed in
  syncBlocked = `${message || "You're signed out. Sign in again to keep checking people in."} Scans are kept on this phone and sync once you do.`;
  $("sync-status").textContent = syncBlocked;
}

window.addEventListener("online", () => { linkUp(); });
window.addEventListener("offline", () => { link.state = "offline"; showLink(); });
setInterval(() => { if (serverReachable() && mine(loadQueue()).length) sync(); }, SYNC_EVERY_MS);

// --- undo ------------------------------------------------------------------------------------------

async function undoCheckin(target) {
  if (!target) return;
  if (target.queued) {
    saveQueue(loadQueue().filter((item) => item.nonce !== target.nonce));
    showResult({ tone: "queued", word: "Removed", detail: "That saved scan won't be sent." });
    lastAdmitted = null;
    return;
  }
  let reply;
  try {
    const body = target.ref ? { ref: target.ref, event: target.event } : { code: target.code, event: target.event };
    reply = await request("POST", config.undoUrl, body);
  } catch (_) {
    showResult({ tone: "error", word: "Undo needs the network", detail: "Try again when you're back online, or tell an organiser." });
    return;
  }
  if (reply.status === 200 && reply.data && reply.data.status === "undone") {
    showResult({ tone: "queued", word: "Check-in undone", name: target.name || "", detail: "They are no longer counted as arrived." });
    addRecent({ tone: "queued", word: "Undone", name: target.name, code: target.code || "", event: target.event });
    lastReads.delete(`${target.event}|${target.code}`);
    inView = { key: null, seenAt: 0 };
    refreshCounts();
  } else {
    showResult({ tone: "error", word: "Nothing to undo", detail: "They weren't checked in to this event." });
  }
  lastAdmitted = null;
}

$("result-undo").addEventListener("click", () => undoCheckin(lastAdmitted));
$("result-close").addEventListener("click", hideResult);

// --- counts ----------------------------------------------------------------------------------------

let counting = false;
async function refreshCounts({ probing = false } = {}) {
  // While the server is down only the retry timer asks (probing), so requests don't pile up on it.
  if (!navigator.onLine || counting || (!probing && (link.state !== "online" || !currentEvent()))) return;
  counting = true;
  let reply;
  try {
    reply = await request("GET", `${config.countsUrl}?event=${encodeURIComponent(currentEvent())}`);
  } catch (_) {
    linkDown(navigator.onLine ? "silent" : "offline");  // keep the last figures
    return;
  } finally {
    counting = false;
  }
  if (reply.status === 200 && reply.data) {
    $("arrived").textContent = reply.data.arrived;
    $("expected").textContent = reply.data.expected;
    linkUp({ counted: true });
  } else if (reply.status === 429 || reply.status >= 500) {
    linkDown(reply.status === 429 ? "busy" : "broken", reply.retryAfter);
  } else if (probing) {
    linkUp({ counted: true });  // it answered (a refusal is still an answer)
  }
}
setInterval(refreshCounts, COUNTS_EVERY_MS);
eventPicker.addEventListener("change", () => {
  lastReads = new Map();
  inView = { key: null, seenAt: 0 };
  held = null;
  $("event-confirm").hidden = true;
  showEvent();
  lastAdmitted = null;
  $("arrived").textContent = "–";
  $("expected").textContent = "–";
  refreshCounts();
  refreshExpected();
  const url = new URL(location.href);
  url.searchParams.set("event", currentEvent());
  history.replaceState(null, "", url);
  eventPicker.blur();  // a scanner typing into the menu would pick another event by its letters
  focusHandheld();
});

// --- handheld scanners -------------------------------------------------------------------------------

const handheld = $("handheld");
function focusHandheld() {
  // Not on touch screens: focusing a box there pops up the keyboard over the camera.
  if (!matchMedia("(pointer: coarse)").matches) handheld.focus({ preventScroll: true });
}

let scannerSettings = loadSettings();

// Every code in what was typed or scanned (AIM identifiers and the scanner's prefix and suffix taken off),
// each checked in as a scan of its own.
function submitTyped(text, method = "handheld") {
  const codes = codesIn(text, scannerSettings);
  for (const code of codes) submitCode(code, method);
  return codes.length;
}

$("handheld-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = handheld.value;
  handheld.value = "";
  submitTyped(text);
});

// A handheld scanner types wherever the focus is (this box, the name search, or nowhere): its fast bursts
// are picked out on the whole page, ended by Enter, Tab or a pause.
const wedge = new KeyWedge({
  ignore: (element) => Boolean(element && element.closest && element.closest("[data-not-scans]")),
  onScan: (text, { target }) => {
    if (target === search) {
      clearTimeout(searchTimer);  // it was a badge, not a name
      runSearch();
    }
    submitTyped(text);
  },
});
document.addEventListener("keydown", (event) => wedge.keydown(event), true);

// The scanner's own prefix and suffix, kept on this device.
const settingsForm = $("scanner-settings-form");
settingsForm.elements.prefix.value = scannerSettings.prefix;
settingsForm.elements.suffix.value = scannerSettings.suffix;
settingsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  saveSettings({ prefix: settingsForm.elements.prefix.value, suffix: settingsForm.elements.suffix.value });
  scannerSettings = loadSettings();
  $("scanner-settings-status").textContent = "Saved on this device.";
});

// --- name search -----------------------------------------------------------------------------------------

const search = $("search");
let searchTimer = null;
search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 250);
});

async function runSearch() {
  const q = search.value.trim();
  const list = $("search-results");
  const codes = codesIn(q, scannerSettings);
  if (codes.length && codes.every(looksLikeCode)) {
    // A badge code in the name box (typed, pasted, or a scanner too slow to tell apart): it is a scan.
    search.value = "";
    list.replaceChildren();
    $("search-hint").textContent = "That was a badge code: checked in as a scan.";
    for (const code of codes) submitCode(code, "handheld");
    return;
  }
  if (q.length < 3) {
    list.replaceChildren();
    $("search-hint").textContent = "Type at least 3 letters.";
    return;
  }
  if (!serverReachable()) {
    searchExpected(q);
    return;
  }
  let reply;
  try {
    reply = await request("GET", `${config.searchUrl}?event=${encodeURIComponent(currentEvent())}&q=${encodeURIComponent(q)}`, undefined, SCAN_TIMEOUT_MS);
  } catch (_) {
    linkDown(navigator.onLine ? "silent" : "offline");
    searchExpected(q);
    return;
  }
  if (search.value.trim() !== q) return;  // they kept typing
  const results = (reply.data && reply.data.results) || [];
  $("search-hint").textContent = results.length ? `${results.length} match${results.length === 1 ? "" : "es"}.` : "Nobody invited by that name.";
  list.replaceChildren(...results.map((person) => {
    const item = el("li", { class: "search-result" },
      el("span", { class: "search-result__who" }, el("strong", { text: person.name }), el("span", { class: "small muted", text: person.organisation })),
      el("span", { class: `pill pill--${person.admissible ? "ok" : "warning"}`, text: person.standing }));
    if (person.checked_in_at) {
      item.append(el("span", { class: "small", text: `Checked in at ${timeOf(person.checked_in_at)}` }));
    } else {
      // Checked in by the reference the search gave (it gives no codes); their needs come with the answer.
      const words = person.walk_in ? "Check in as walk-in" : "Check in";
      const button = el("button", { type: "button", class: "button button--secondary", text: words });
      button.setAttribute("aria-label", person.walk_in ? `Check in ${person.name} as a walk-in` : `Check in ${person.name}`);
      button.addEventListener("click", () => {
        const go = async () => {
          await send({ code: "", ref: person.ref, name: person.name, event: currentEvent(), method: "manual",
                       nonce: newNonce(), at: new Date().toISOString(), user: config.user,
                       confirmed: stewardConfirmed(), walkIn: Boolean(person.walk_in) });
          runSearch();
        };
        if (eventChecked(go)) go();
      });
      item.append(button);
    }
    return item;
  }));
}

// --- the expected list, for the name search offline ----------------------------------------------------
// Names and organisations only (no codes, no needs), per event, for the signed-in steward; forgotten on
// a 401 and on the sign-in page (signed-out.js), so it is on the device only while they are signed in.

function loadExpected() {
  try {
    const saved = JSON.parse(localStorage.getItem(EXPECTED_KEY) || "null");
    return saved && saved.user === config.user ? saved : { user: config.user, lists: {} };
  } catch (_) {
    return { user: config.user, lists: {} };
  }
}

function forgetExpected() {
  localStorage.removeItem(EXPECTED_KEY);
}

async function refreshExpected() {
  const event = currentEvent();
  if (!event || !serverReachable()) return;
  let reply;
  try {
    reply = await request("GET", `${config.expectedUrl}?event=${encodeURIComponent(event)}`);
  } catch (_) {
    return;  // the counts and scans notice a silent server; this list just waits for next time
  }
  if (reply.status === 200 && reply.data && Array.isArray(reply.data.people)) {
    const saved = loadExpected();
    saved.lists[event] = { fetchedAt: new Date().toISOString(), people: reply.data.people };
    localStorage.setItem(EXPECTED_KEY, JSON.stringify(saved));
  } else if (reply.status === 401 || reply.status === 403) {
    forgetExpected();
  }
}
setInterval(refreshExpected, EXPECTED_EVERY_MS);

function folded(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function searchExpected(q) {
  const list = $("search-results");
  const saved = loadExpected().lists[currentEvent()];
  if (!saved) {
    list.replaceChildren();
    $("search-hint").textContent = "Name search needs the network here: this phone has no list for this event. Scan the badge or type its code.";
    return;
  }
  const wanted = folded(q);
  const found = saved.people.filter((person) => folded(person.name).includes(wanted)).slice(0, 20);
  $("search-hint").textContent = `Offline: searching the list saved on this phone at ${timeOf(saved.fetchedAt)}. `
    + (found.length ? `${found.length} match${found.length === 1 ? "" : "es"}.` : "Nobody expected by that name.");
  list.replaceChildren(...found.map((person) => {
    const button = el("button", { type: "button", class: "button button--secondary", text: "Check in" });
    button.setAttribute("aria-label", `Check in ${person.name}`);
    button.addEventListener("click", () => {
      const save = () => enqueue({ code: "", ref: person.ref, name: person.name, event: currentEvent(), method: "manual",
                                   nonce: newNonce(), at: new Date().toISOString(), user: config.user,
                                   confirmed: stewardConfirmed() });
      if (eventChecked(save)) save();
    });
    return el("li", { class: "search-result" },
      el("span", { class: "search-result__who" }, el("strong", { text: person.name }), el("span", { class: "small muted", text: person.organisation })),
      el("span", { class: "pill pill--info", text: "Expected" }), button);
  }));
}

// --- offline first: a service worker keeps the page and its files (scanner-sw.js) ----------------------

async function keepOffline() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  try {
    await navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.swScope });
    await navigator.serviceWorker.ready;
    root.dataset.offlineReady = "true";
  } catch (_) {
    // Private browsing and some browsers refuse: the page still works, and saves scans, while it stays open.
  }
}

// --- the camera ----------------------------------------------------------------------------------------

const video = $("video");
const videoBox = $("video-box");
let stream = null;
let decoder = null;
let scanning = false;
// Load the decoder up front (with its WebAssembly, where there is no BarcodeDetector), so the camera still
// starts after the network drops.
const decoderReady = loadDecoder();

async function loadDecoder() {
  try {
    const { createDecoder, Hints, nearestCentre } = await import("./decoder.js");
    const made = await createDecoder({ ponyfillUrl: videoBox.dataset.ponyfillUrl, wasmUrl: videoBox.dataset.wasmUrl });
    root.dataset.library = "ready";
    root.dataset.decoder = made.engine;
    return { decoder: made, hints: new Hints(), nearestCentre };
  } catch (_) {
    root.dataset.library = "failed";
    return null;
  }
}

const CAMERA_PROBLEMS = {
  https: ["The camera needs a secure connection", "Browsers only allow the camera on https:// pages. Use the handheld scanner box or Find someone by name below, or open this page at its https:// address."],
  denied: ["Camera permission was refused", "Allow the camera for this site in your browser's settings (the padlock or ⓘ by the address), then tap Start camera again. Until then, use the handheld box or the name search."],
  none: ["No camera found", "This device has no camera we can use. Use a handheld scanner in the box below, or find people by name."],
  busy: ["The camera is in use", "Another app is using the camera. Close it and tap Start camera again, or use the box below."],
  library: ["The QR reader didn't load", "Reload the page while online. Meanwhile use the handheld box or the name search."],
  other: ["The camera didn't start", "Tap Start camera to try again, or use the handheld box or the name search."],
};

function cameraProblem(kind) {
  const [title, advice] = CAMERA_PROBLEMS[kind];
  const box = $("camera-message");
  box.replaceChildren(el("p", {}, el("strong", { text: title })), el("p", { text: advice }));
  box.hidden = false;
  box.dataset.problem = kind;
  $("camera-start").hidden = kind === "https" || kind === "none";
  stopCamera({ keepMessage: true });
  focusHandheld();
}

async function startCamera() {
  unlockAudio();
  $("camera-message").hidden = true;
  if (!window.isSecureContext) return cameraProblem("https");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return cameraProblem("none");
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      // As many pixels as the camera gives (up to 1080p): a badge at arm's length is then still big enough.
      audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
    });
  } catch (error) {
    const kinds = { NotAllowedError: "denied", SecurityError: "denied", PermissionDeniedError: "denied",
                    NotFoundError: "none", DevicesNotFoundError: "none", OverconstrainedError: "none",
                    NotReadableError: "busy", TrackStartError: "busy" };
    return cameraProblem(kinds[error.name] || "other");
  }
  decoder = await decoderReady;
  if (!decoder) return cameraProblem("library");
  decoder.hints.reset();
  video.srcObject = stream;
  $("video-box").hidden = false;
  try { await video.play(); } catch (_) { /* autoplay with muted video is allowed; ignore a race */ }
  $("camera-start").hidden = true;
  $("camera-stop").hidden = false;
  offerTorch();
  scanning = true;
  scanLoop();
}

async function scanLoop() {
  while (scanning) {
    if (video.readyState >= 2 && video.videoWidth) {
      let codes = [];
      try { codes = await decoder.decoder.readAll(video); } catch (_) { /* a frame it couldn't take: the next one */ }
      // The whole frame is read; with two badges in view, the one nearest the centre is the one held up.
      const code = decoder.nearestCentre(codes, video.videoWidth, video.videoHeight);
      root.dataset.codesInView = String(codes.length);
      showHint(decoder.hints.frame(video, { read: Boolean(code) }));
      if (code && scanning) submitCode(code.text, "camera");
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  showHint(null);
}

function showHint(text) {
  const hint = $("camera-hint");
  if (hint.textContent !== (text || "")) hint.textContent = text || "";
  hint.hidden = !text;
}

function stopCamera({ keepMessage = false } = {}) {
  scanning = false;
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  video.srcObject = null;
  $("video-box").hidden = true;
  $("camera-stop").hidden = true;
  $("torch").hidden = true;
  if (!keepMessage) $("camera-message").hidden = true;
  if ($("camera-message").dataset.problem !== "https" && $("camera-message").dataset.problem !== "none") $("camera-start").hidden = false;
}

function offerTorch() {
  const track = stream && stream.getVideoTracks()[0];
  const capabilities = track && track.getCapabilities ? track.getCapabilities() : {};
  const button = $("torch");
  button.hidden = !capabilities.torch;
  button.onclick = async () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    try {
      await track.applyConstraints({ advanced: [{ torch: on }] });
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? "Torch off" : "Torch on";
    } catch (_) {
      button.hidden = true;
    }
  };
}

$("camera-start").addEventListener("click", startCamera);
$("camera-stop").addEventListener("click", () => stopCamera());
document.addEventListener("visibilitychange", () => {
  if (document.hidden && stream) stopCamera();  // give the camera back when the phone locks
});

// --- start ---------------------------------------------------------------------------------------------------

if (!window.isSecureContext) cameraProblem("https");
{
  // The event named in the address, else the one on now or next today (again here: the page may be a copy).
  const wanted = new URL(location.href).searchParams.get("event");
  eventPicker.value = wanted && eventOptions().some((option) => option.value === wanted) ? wanted : todayEvent();
  showEvent();
}
showLink();
showPending();
showProblems();
refreshExpected();
keepOffline();
// The scans still waiting, as rows that their outcomes will replace.
for (const scan of mine(loadQueue()).slice(-RECENT_ROWS)) {
  addRecent({ tone: "queued", word: "Queued", name: scan.name || "", code: scan.code || "", event: scan.event, id: scan.nonce });
}
refreshCounts();
syncSoon(500);
focusHandheld();
root.dataset.ready = "true";
