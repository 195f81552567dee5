// The check-in scanner: camera (decoder.js: BarcodeDetector, else ZXing-C++ in WebAssembly), handheld scanner keystrokes,
// name search, a big coloured answer with sound and vibration, undo, live counts, and an offline queue
// that syncs when the network is back (the server settles duplicates: every scan carries a nonce).

const root = document.getElementById("scanner");
const $ = (id) => document.getElementById(id);
const config = {
  scanUrl: root.dataset.scanUrl,
  undoUrl: root.dataset.undoUrl,
  searchUrl: root.dataset.searchUrl,
  countsUrl: root.dataset.countsUrl,
  user: root.dataset.user,
  csrf: document.querySelector('meta[name="csrf-token"]').content,
};

const DEBOUNCE_MS = 3000;      // the same code read again within this is the same scan
const RESULT_MS = 2500;        // how long the big answer covers the lower half
const COUNTS_EVERY_MS = 10000;
const SYNC_EVERY_MS = 5000;
const REQUEST_TIMEOUT_MS = 8000;
const QUEUE_KEY = "nh-checkin-queue-v1";

const eventPicker = $("event");
const resultBox = $("result");
let lastReads = new Map();     // "event|code" -> time of the last read handled
let lastAdmitted = null;       // {code, event, name, queued, nonce} for Undo
let resultTimer = null;
let syncing = false;
let retryNotBefore = 0;

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

async function request(method, url, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
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

function describe(answer) {
  const person = answer.person || {};
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

function showResult({ tone, word, name = "", org = "", detail = "", needs = [], undo = false }) {
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

function addRecent({ tone, word, name, detail, code, event, undo }) {
  const item = el("li", { class: `recent recent--${tone}` },
    el("span", { class: `pill pill--${tone === "queued" ? "info" : tone}`, text: word }), " ",
    el("strong", { text: name || `Badge …${code.slice(-4)}` }),
    detail ? el("span", { class: "small", text: ` ${detail}` }) : null);
  if (undo) {
    const button = el("button", { type: "button", class: "link-button", text: "Undo" });
    button.addEventListener("click", () => undoCheckin({ code, event, name }));
    item.append(" ", button);
  }
  const list = $("recent");
  list.prepend(item);
  while (list.children.length > 8) list.lastChild.remove();
}

function answered(scan, answer, { synced = false } = {}) {
  const shown = describe(answer);
  const person = answer.person || {};
  const undo = answer.status === "ok";
  if (undo) lastAdmitted = { code: scan.code, event: scan.event, name: person.name };
  if (!synced) {
    showResult({ ...shown, name: person.name || "", org: person.organisation || "", needs: person.needs, undo });
  }
  addRecent({ tone: shown.tone, word: synced ? `${shown.word} (synced)` : shown.word, name: person.name,
              detail: shown.tone === "warning" ? shown.detail : "", code: scan.code, event: scan.event, undo });
  if (synced && shown.tone === "error") addProblem(scan, shown, person);
  refreshCounts();
}

function addProblem(scan, shown, person) {
  $("problems").hidden = false;
  $("problem-list").append(el("li", {},
    el("strong", { text: `${shown.word}: ` }), person.name || `badge …${scan.code.slice(-4)}`,
    ` (scanned ${timeOf(scan.at)})`));
}

// --- scanning ---------------------------------------------------------------------------------------

function currentEvent() {
  return eventPicker.value;
}

async function submitCode(raw, method, { force = false } = {}) {
  const code = String(raw || "").trim().toUpperCase();
  if (!code) return;
  const event = currentEvent();
  const key = `${event}|${code}`;
  const now = Date.now();
  if (!force && now - (lastReads.get(key) || 0) < DEBOUNCE_MS) return;  // the same badge, still in view
  lastReads.set(key, now);
  const scan = { code, event, method, nonce: newNonce(), at: new Date().toISOString(), user: config.user };
  if (!navigator.onLine) {
    enqueue(scan);
    return;
  }
  let reply;
  try {
    reply = await request("POST", config.scanUrl, { code, event, method, nonce: scan.nonce });
  } catch (_) {
    enqueue(scan);  // network gone mid-request: the nonce makes sending it again safe
    return;
  }
  if (reply.status === 200 && reply.data) {
    setNetwork(true);
    answered(scan, reply.data);
    syncSoon();
  } else if (reply.status === 429 || reply.status >= 500 || reply.data === null) {
    retryNotBefore = Date.now() + (reply.retryAfter || 5) * 1000;
    enqueue(scan);
  } else if (reply.status === 401 || reply.status === 403) {
    enqueue(scan);
    signedOut(reply.data && reply.data.error);
  } else {
    showResult({ tone: "error", word: "Not sent", detail: (reply.data && reply.data.error) || "The server refused that scan." });
  }
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

function enqueue(scan) {
  setNetwork(navigator.onLine && Date.now() >= retryNotBefore);
  const queue = loadQueue();
  const twin = queue.find((item) => item.code === scan.code && item.event === scan.event);
  if (twin) {
    showResult({ tone: "queued", word: "Already saved", detail: "This badge is already waiting to sync." });
    return;
  }
  queue.push(scan);
  saveQueue(queue);
  lastAdmitted = { code: scan.code, event: scan.event, queued: true, nonce: scan.nonce };
  showResult({ tone: "queued", word: "Saved offline", undo: true,
               detail: "No network: let them in if the badge looks right. It is checked when the network is back." });
  addRecent({ tone: "queued", word: "Queued", name: "", code: scan.code, event: scan.event });
}

function showPending() {
  const queue = loadQueue();
  const count = mine(queue).length;
  $("pending").textContent = String(count);
  $("status-bar").classList.toggle("scanner__bar--pending", count > 0);
  const others = queue.length - count;
  $("sync-status").textContent = others
    ? `${others} scan${others === 1 ? "" : "s"} saved on this phone by another account will sync when they sign in here.`
    : (count ? "" : $("sync-status").textContent);
}

let syncTimer = null;
function syncSoon(delay = 0) {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(sync, delay);
}

async function sync() {
  if (syncing || !navigator.onLine || Date.now() < retryNotBefore) return;
  const queue = mine(loadQueue());
  if (!queue.length) return;
  syncing = true;
  let synced = 0;
  try {
    for (const scan of queue) {
      let reply;
      try {
        reply = await request("POST", config.scanUrl, { code: scan.code, event: scan.event, method: scan.method, nonce: scan.nonce });
      } catch (_) {
        setNetwork(false);
        break;  // still offline: try again later
      }
      if (reply.status === 429 || reply.status >= 500 || reply.data === null) {
        retryNotBefore = Date.now() + (reply.retryAfter || 5) * 1000;
        break;
      }
      if (reply.status === 401 || reply.status === 403) {
        signedOut(reply.data && reply.data.error);
        break;
      }
      setNetwork(true);
      saveQueue(loadQueue().filter((item) => item.nonce !== scan.nonce));
      if (reply.status === 200) {
        synced += 1;
        answered(scan, reply.data, { synced: true });
      } else {
        addProblem(scan, { word: "Not accepted" }, {});
      }
    }
  } finally {
    syncing = false;
  }
  if (synced) $("sync-status").textContent = `Synced ${synced} saved scan${synced === 1 ? "" : "s"} at ${timeOf(new Date().toISOString())}.`;
  showPending();
}

function setNetwork(online) {
  const label = $("network");
  label.textContent = online ? "Online" : "Offline: saving scans";
  label.classList.toggle("scanner__net--offline", !online);
}

function signedOut(message) {
  $("sync-status").textContent = `${message || "You're signed out."} Scans are kept on this phone: sign in again and they will sync.`;
}

window.addEventListener("online", () => { setNetwork(true); retryNotBefore = 0; syncSoon(); refreshCounts(); });
window.addEventListener("offline", () => setNetwork(false));
setInterval(() => { if (mine(loadQueue()).length) sync(); }, SYNC_EVERY_MS);

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
    reply = await request("POST", config.undoUrl, { code: target.code, event: target.event });
  } catch (_) {
    showResult({ tone: "error", word: "Undo needs the network", detail: "Try again when you're back online, or tell an organiser." });
    return;
  }
  if (reply.status === 200 && reply.data && reply.data.status === "undone") {
    showResult({ tone: "queued", word: "Check-in undone", name: target.name || "", detail: "They are no longer counted as arrived." });
    addRecent({ tone: "queued", word: "Undone", name: target.name, code: target.code, event: target.event });
    lastReads.delete(`${target.event}|${target.code}`);
    refreshCounts();
  } else {
    showResult({ tone: "error", word: "Nothing to undo", detail: "They weren't checked in to this event." });
  }
  lastAdmitted = null;
}

$("result-undo").addEventListener("click", () => undoCheckin(lastAdmitted));
$("result-close").addEventListener("click", hideResult);

// --- counts ----------------------------------------------------------------------------------------

async function refreshCounts() {
  if (!navigator.onLine) return;
  try {
    const reply = await request("GET", `${config.countsUrl}?event=${encodeURIComponent(currentEvent())}`);
    if (reply.status === 200 && reply.data) {
      $("arrived").textContent = reply.data.arrived;
      $("expected").textContent = reply.data.expected;
    }
  } catch (_) { /* offline: keep the last figures */ }
}
setInterval(refreshCounts, COUNTS_EVERY_MS);
eventPicker.addEventListener("change", () => {
  lastReads = new Map();
  lastAdmitted = null;
  $("arrived").textContent = "–";
  $("expected").textContent = "–";
  refreshCounts();
  const url = new URL(location.href);
  url.searchParams.set("event", currentEvent());
  history.replaceState(null, "", url);
});

// --- handheld scanners -------------------------------------------------------------------------------

const handheld = $("handheld");
function focusHandheld() {
  // Not on touch screens: focusing a box there pops up the keyboard over the camera.
  if (!matchMedia("(pointer: coarse)").matches) handheld.focus({ preventScroll: true });
}

$("handheld-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = handheld.value;
  handheld.value = "";
  submitCode(code, "handheld", { force: false });
});

// A Bluetooth scanner paired with a phone types wherever the focus is: catch a fast burst ending in Enter.
let burst = "";
let burstAt = 0;
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
  const now = Date.now();
  if (now - burstAt > 100) burst = "";
  burstAt = now;
  if (event.key === "Enter" && burst.length >= 8) {
    submitCode(burst, "handheld");
    burst = "";
  } else if (event.key.length === 1) {
    burst += event.key;
  }
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
  if (q.length < 3) {
    list.replaceChildren();
    $("search-hint").textContent = "Type at least 3 letters.";
    return;
  }
  if (!navigator.onLine) {
    $("search-hint").textContent = "Name search needs the network. Scan the badge or type its code instead.";
    return;
  }
  let reply;
  try {
    reply = await request("GET", `${config.searchUrl}?event=${encodeURIComponent(currentEvent())}&q=${encodeURIComponent(q)}`);
  } catch (_) {
    $("search-hint").textContent = "Name search needs the network. Scan the badge or type its code instead.";
    return;
  }
  if (search.value.trim() !== q) return;  // they kept typing
  const results = (reply.data && reply.data.results) || [];
  $("search-hint").textContent = results.length ? `${results.length} match${results.length === 1 ? "" : "es"}.` : "Nobody invited by that name.";
  list.replaceChildren(...results.map((person) => {
    const item = el("li", { class: "search-result" },
      el("span", { class: "search-result__who" }, el("strong", { text: person.name }), el("span", { class: "small muted", text: person.organisation })),
      el("span", { class: `pill pill--${person.admissible ? "ok" : "warning"}`, text: person.standing }));
    if (person.needs.length) {
      const needs = el("ul", { class: "list-plain small" });
      renderNeeds(needs, person.needs);
      item.append(needs);
    }
    if (person.checked_in_at) {
      item.append(el("span", { class: "small", text: `Checked in at ${timeOf(person.checked_in_at)}` }));
    } else {
      const button = el("button", { type: "button", class: "button button--secondary", text: "Check in" });
      button.setAttribute("aria-label", `Check in ${person.name}`);
      button.addEventListener("click", async () => {
        await submitCode(person.code, "manual", { force: true });
        runSearch();
      });
      item.append(button);
    }
    return item;
  }));
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
setNetwork(navigator.onLine);
showPending();
refreshCounts();
syncSoon(500);
focusHandheld();
root.dataset.ready = "true";
