// The check-in scanner: camera (camera.js, decoder.js), handheld scanner keystrokes (handheld.js,
// keystrokes.js), name search (search.js), a big coloured answer with sound and vibration (answer.js,
// sound.js), undo, live counts (counts.js, bar.js), and an offline queue (storage.js) that syncs when the
// network is back (sync.js, net.js; the server settles duplicates: every scan carries a nonce).
//
// This is where the page is put together: the one place that reads the page's settings, makes every part
// and its state, listens to the page and starts the timers. Importing any other module does nothing by itself.

import { AnswerCard, LastScans, RECENT_ROWS, showProblems } from "./answer.js";
import { StatusBar } from "./bar.js";
import { Camera } from "./camera.js";
import { Counts } from "./counts.js";
import { byId as $ } from "./dom.js";
import { Handheld } from "./handheld.js";
import { Connection, requester } from "./net.js";
import { EventPicker } from "./picker.js";
import { Reprint } from "./reprint.js";
import { Door } from "./scans.js";
import { NameSearch } from "./search.js";
import { Sound } from "./sound.js";
import { ConfirmedEvents, ExpectedLists, Problems, Queue } from "./storage.js";
import { Sync } from "./sync.js";

const COUNTS_EVERY_MS = 10000;
const SYNC_EVERY_MS = 5000;
const EXPECTED_EVERY_MS = 5 * 60 * 1000;

const root = $("scanner");
const config = {
  scanUrl: root.dataset.scanUrl,
  undoUrl: root.dataset.undoUrl,
  searchUrl: root.dataset.searchUrl,
  countsUrl: root.dataset.countsUrl,
  expectedUrl: root.dataset.expectedUrl,
  reprintUrl: root.dataset.reprintUrl || "",  // organisers only: a steward's page has none
  user: root.dataset.user,
  userName: root.dataset.userName,
  csrf: document.querySelector('meta[name="csrf-token"]').content,
};
const request = requester(config.csrf);

// --- the parts, and what each is told about the others ----------------------------------------------------

const sound = new Sound();
const bar = new StatusBar({ root });
const queue = new Queue(localStorage, config.user, () => showPending());
const problems = new Problems(localStorage, config.user, () => showProblems(problems));
const expected = new ExpectedLists(localStorage, config.user);
const connection = new Connection({
  show: () => bar.showLink(connection.link, navigator.onLine),
  wentUp: (wasDown, counted) => {
    if (wasDown && !counted) counts.refresh();
    if (wasDown) search.refreshExpected();
    if (queue.mine().length) sync.soon();
  },
  // Is the server answering again? The first queued scan is the question, else the counts.
  probe: async () => {
    if (!navigator.onLine) return;
    if (queue.mine().length) await sync.run({ probing: true });
    else await counts.refresh({ probing: true });
  },
});
const card = new AnswerCard({ box: $("result"), beep: (tone) => sound.beep(tone), refocus: () => handheld.focus(),
                              reprints: Boolean(config.reprintUrl) });
const reprint = new Reprint({ url: config.reprintUrl, csrf: config.csrf, card });
const recent = new LastScans({ list: $("recent"), undo: (target) => door.undo(target) });
const picker = new EventPicker({ select: $("event"), root, confirmed: new ConfirmedEvents(sessionStorage), card });
const counts = new Counts({ request, url: config.countsUrl, connection, bar, currentEvent: () => picker.current() });

function showPending() {
  bar.showPending(queue.all(), queue.mine());
}

function pageExpired(message) {
  bar.block(message || "This page has expired. Reload it to send the saved scans.");  // the server's says reload
}

function signedOut(message) {
  expected.forget();  // the expected list is kept only while the steward is signed in
  bar.block(`${message || "You're signed out. Sign in again to keep checking people in."} Scans are kept on this phone and sync once you do.`);
}

const door = new Door({
  user: config.user, userName: config.userName, scanUrl: config.scanUrl, undoUrl: config.undoUrl, request, connection,
  queue, problems, card, recent, picker, bar, refreshCounts: () => counts.refresh(), signedOut, pageExpired,
});
const sync = new Sync({ request, url: config.scanUrl, queue, problems, connection, bar, door, showPending, signedOut, pageExpired });
const searchInput = $("search");
const search = new NameSearch({
  input: searchInput, searchUrl: config.searchUrl, expectedUrl: config.expectedUrl, request, connection, expected, picker, door,
  settings: () => handheld.settings, user: config.user,
});
const handheld = new Handheld({
  input: $("handheld"), settingsForm: $("scanner-settings-form"), settingsStatus: $("scanner-settings-status"),
  storage: localStorage, searchInput, search, submit: (code, method) => door.submit(code, method),
});
const camera = new Camera({
  root, video: $("video"), videoBox: $("video-box"), unlockAudio: () => sound.unlock(), refocus: () => handheld.focus(),
  onCode: (text) => door.submit(text, "camera"),
});

// --- what the page listens to, and the timers ----------------------------------------------------------------

document.addEventListener("pointerdown", () => sound.unlock(), { once: true });
document.addEventListener("keydown", () => sound.unlock(), { once: true });
$("event-confirm-yes").addEventListener("click", () => picker.yes());
$("event-confirm-no").addEventListener("click", () => picker.no());
window.addEventListener("online", () => { connection.up(); });
window.addEventListener("offline", () => { connection.offline(); });
setInterval(() => { if (connection.reachable() && queue.mine().length) sync.run(); }, SYNC_EVERY_MS);
$("result-undo").addEventListener("click", () => door.undo(door.lastAdmitted));
$("result-close").addEventListener("click", () => card.hide());
$("result-reprint").addEventListener("click", () => reprint.print(card.reprintTarget));
setInterval(() => counts.refresh(), COUNTS_EVERY_MS);
picker.select.addEventListener("change", () => {
  door.repeats.forget();
  picker.changed();
  door.lastAdmitted = null;
  bar.showCounts("–", "–");
  counts.refresh();
  search.refreshExpected();
  const url = new URL(location.href);
  url.searchParams.set("event", picker.current());
  history.replaceState(null, "", url);
  picker.select.blur();  // a scanner typing into the menu would pick another event by its letters
  handheld.focus();
});
$("handheld-form").addEventListener("submit", (event) => handheld.boxSubmitted(event));
document.addEventListener("keydown", (event) => handheld.wedge.keydown(event), true);
handheld.showSettings();
handheld.settingsForm.addEventListener("submit", (event) => handheld.settingsSaved(event));
searchInput.addEventListener("input", () => search.typed());
setInterval(() => search.refreshExpected(), EXPECTED_EVERY_MS);
camera.loadDecoder();
$("camera-start").addEventListener("click", () => camera.start());
$("camera-stop").addEventListener("click", () => camera.stop());
document.addEventListener("visibilitychange", () => {
  if (document.hidden) camera.pageHidden();
});

// --- offline first: a service worker keeps the page and its files (scanner-sw.js) ----------------------------

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

// --- start ---------------------------------------------------------------------------------------------------

if (!window.isSecureContext) camera.problem("https");
picker.open(new URL(location.href).searchParams.get("event"));
connection.show();
showPending();
showProblems(problems);
search.refreshExpected();
keepOffline();
// The scans still waiting, as rows that their outcomes will replace.
for (const scan of queue.mine().slice(-RECENT_ROWS)) {
  recent.add({ tone: "queued", word: "Queued", name: scan.name || "", code: scan.code || "", event: scan.event, id: scan.nonce });
}
counts.refresh();
sync.soon(500);
handheld.focus();
root.dataset.ready = "true";
