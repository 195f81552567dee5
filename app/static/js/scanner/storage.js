// What the scanner keeps on the device: the saved scans (the queue), the problems after a sync, the expected
// lists for the name search offline, the events confirmed for today and the handheld scanner's settings.
// No DOM: each store is given a Storage (localStorage, sessionStorage, or a stand-in in the tests) and tells
// whoever made it when it changed (onChange); what the page shows is up to them. tests/js/storage.test.mjs.
// The sign-in page forgets some of these keys too (signed-out.js).

export const QUEUE_KEY = "nh-checkin-queue-v1";
export const PROBLEMS_KEY = "nh-checkin-problems-v1";
export const EXPECTED_KEY = "nh-expected-v1";  // the expected lists for the name search offline (cleared on sign-out)
export const CONFIRMED_KEY = "nh-checkin-confirmed-events-v1";  // events not on today that the steward said yes to
export const SETTINGS_KEY = "nh-scanner-settings-v1";

function read(storage, key, empty) {
  try { return JSON.parse(storage.getItem(key) || empty); } catch (_) { return JSON.parse(empty); }
}

// Scans saved while the server couldn't be reached, every account's, in the order they were made.
export class Queue {
  constructor(storage, user, onChange = () => {}) {
    this.storage = storage;
    this.user = user;
    this.onChange = onChange;
  }

  all() {
    return read(this.storage, QUEUE_KEY, "[]");
  }

  save(queue) {
    this.storage.setItem(QUEUE_KEY, JSON.stringify(queue));
    this.onChange();
  }

  // The signed-in steward's: only they sync them (another account's wait for its steward to sign in here).
  mine(queue = this.all()) {
    return queue.filter((item) => item.user === this.user);
  }

  // Saves the scan, unless the same badge (or the same person found by name) is already waiting for that event.
  add(scan) {
    const queue = this.all();
    const twin = queue.find((item) => (item.ref || item.code) === (scan.ref || scan.code) && item.event === scan.event);
    if (twin) return false;
    queue.push(scan);
    this.save(queue);
    return true;
  }

  remove(nonce) {
    this.save(this.all().filter((item) => item.nonce !== nonce));
  }
}

// Saved scans the server answered with anything but "ok" (they were let in offline): kept until dismissed.
export class Problems {
  constructor(storage, user, onChange = () => {}) {
    this.storage = storage;
    this.user = user;
    this.onChange = onChange;
  }

  all() {
    return read(this.storage, PROBLEMS_KEY, "[]");
  }

  save(problems) {
    this.storage.setItem(PROBLEMS_KEY, JSON.stringify(problems));
    this.onChange();
  }

  mine() {
    return this.all().filter((problem) => problem.user === this.user);
  }

  // One per saved scan (its nonce): what the server said ({ word, detail }) and who it was, when it says.
  add(scan, shown, person) {
    const problems = this.all().filter((problem) => problem.id !== scan.nonce);
    problems.push({
      id: scan.nonce, user: this.user, event: scan.event, code: scan.code || "", scannedAt: scan.at,
      word: shown.word, detail: shown.detail || "", name: person.name || scan.name || "", organisation: person.organisation || "",
    });
    this.save(problems);
  }

  dismiss(id) {
    this.save(this.all().filter((item) => item.id !== id));
  }
}

export function folded(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

// Names and organisations only (no codes, no needs), per event, for the signed-in steward; forgotten on
// a 401 and on the sign-in page (signed-out.js), so it is on the device only while they are signed in.
export class ExpectedLists {
  constructor(storage, user) {
    this.storage = storage;
    this.user = user;
  }

  load() {
    try {
      const saved = JSON.parse(this.storage.getItem(EXPECTED_KEY) || "null");
      return saved && saved.user === this.user ? saved : { user: this.user, lists: {} };
    } catch (_) {
      return { user: this.user, lists: {} };
    }
  }

  keep(event, people, fetchedAt = new Date().toISOString()) {
    const saved = this.load();
    saved.lists[event] = { fetchedAt, people };
    this.storage.setItem(EXPECTED_KEY, JSON.stringify(saved));
  }

  forget() {
    this.storage.removeItem(EXPECTED_KEY);
  }

  // Up to 20 people expected at the event whose name holds what was typed (accents and case aside), and
  // when the list was fetched; null when this device has no list for the event.
  find(event, q) {
    const saved = this.load().lists[event];
    if (!saved) return null;
    const wanted = folded(q);
    return { fetchedAt: saved.fetchedAt, found: saved.people.filter((person) => folded(person.name).includes(wanted)).slice(0, 20) };
  }
}

// The events not on today that the steward said yes to (per browser tab: sessionStorage), with the day they did.
export class ConfirmedEvents {
  constructor(storage) {
    this.storage = storage;
  }

  load() {
    return read(this.storage, CONFIRMED_KEY, "{}");
  }

  save(confirmed) {
    this.storage.setItem(CONFIRMED_KEY, JSON.stringify(confirmed));
  }
}

// The handheld scanner's own prefix and suffix, set on the page and kept on this device.
export function loadSettings(storage) {
  try {
    const saved = JSON.parse(storage.getItem(SETTINGS_KEY) || "{}");
    return { prefix: String(saved.prefix || ""), suffix: String(saved.suffix || "") };
  } catch (_) {
    return { prefix: "", suffix: "" };
  }
}

export function saveSettings(storage, { prefix, suffix }) {
  storage.setItem(SETTINGS_KEY, JSON.stringify({ prefix: prefix || "", suffix: suffix || "" }));
}
