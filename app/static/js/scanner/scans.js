// A scan from the code read to the answer at the door: repeats of one code are dropped, the event is
// checked, then the scan goes to the server (its answer shown) or, when the server can't be reached, to the
// queue ("let them in if the badge looks right"). Also the answer to a saved scan when it syncs, and Undo.
// Repeats is pure: tests/js/scans.test.mjs.

import { describe, syncedDetail } from "./answer.js";
import { classify, newNonce, SCAN_TIMEOUT_MS, scanBody, trouble } from "./net.js";

export const DEBOUNCE_MS = 3000;  // a handheld scanner sending the same code again within this: the same scan
export const IN_VIEW_MS = 10000;  // a badge the camera keeps seeing is answered once, until another code or this long unseen

// Which reads are repeats of one already handled. Keys are "event|code"; times are milliseconds.
export class Repeats {
  constructor() {
    this.forget();
  }

  forget() {
    this.lastReads = new Map();            // key -> time of the last read handled
    this.inView = { key: null, seenAt: 0 };  // the last code answered, and when the camera last saw it
  }

  isRepeat(key, method, force, now) {
    if (method === "camera" && !force) {
      // A badge left in view is answered once: again only after another code, or once it has been out of
      // sight for a while (the camera reads it many times a second).
      const still = this.inView.key === key && now - this.inView.seenAt < IN_VIEW_MS;
      if (this.inView.key === key) this.inView.seenAt = now;
      return still;
    }
    return !force && now - (this.lastReads.get(key) || 0) < DEBOUNCE_MS;  // a scanner that sent the same code twice
  }

  // The steward was asked about the event: asked once, not once a frame.
  asked(key, now) {
    this.inView = { key, seenAt: now };
  }

  handled(key, now) {
    this.lastReads.set(key, now);
    this.inView = { key, seenAt: now };
  }

  undone(key) {
    this.lastReads.delete(key);
    this.inView = { key: null, seenAt: 0 };
  }
}

export class Door {
  constructor({ user, userName, scanUrl, undoUrl, request, connection, queue, problems, card, recent, picker, bar,
                refreshCounts, signedOut, pageExpired }) {
    Object.assign(this, { user, userName, scanUrl, undoUrl, request, connection, queue, problems, card, recent, picker, bar,
                          refreshCounts, signedOut, pageExpired });
    this.repeats = new Repeats();
    this.lastAdmitted = null;  // {code, ref, event, name, queued, nonce} for Undo
  }

  async submit(raw, method, { force = false } = {}) {
    const code = String(raw || "").trim().toUpperCase();
    if (!code) return;
    const event = this.picker.current();
    const key = `${event}|${code}`;
    const now = Date.now();
    if (this.repeats.isRepeat(key, method, force, now)) return;
    if (!this.picker.checked(() => this.submit(raw, method, { force: true }))) {
      this.repeats.asked(key, now);
      return;
    }
    this.repeats.handled(key, now);
    const scan = { code, event, method, nonce: newNonce(), at: new Date().toISOString(), user: this.user,
                   confirmed: this.picker.confirmedNotToday() };
    await this.send(scan);
  }

  // A scan to the server, or to the queue when the server can't be reached. Also a person found by name (their
  // reference in place of a code).
  async send(scan) {
    if (!this.connection.reachable()) {
      this.enqueue(scan);  // offline, or the server has stopped answering: don't keep the door waiting
      return;
    }
    let verdict;
    try {
      verdict = classify(await this.request("POST", this.scanUrl, scanBody(scan), SCAN_TIMEOUT_MS));
    } catch (_) {
      // No answer in time (or the network went mid-request). The server may still have it: the nonce makes
      // sending it again safe, and the sync gets the first answer back.
      this.connection.noAnswer();
      this.enqueue(scan);
      return;
    }
    if (verdict.kind === "answer") {
      this.bar.unblock();
      this.connection.up();
      this.answered(scan, verdict.data);
    } else if (trouble(verdict)) {
      this.connection.troubled(verdict);
      this.enqueue(scan);
    } else if (verdict.kind === "signed-out") {
      this.enqueue(scan);
      this.signedOut(verdict.message);
    } else if (verdict.kind === "expired") {
      this.enqueue(scan, "This page needs reloading");  // its token is out of date: keep the scan, ask for a reload
      this.pageExpired(verdict.message);
    } else {
      this.card.show({ tone: "error", word: "Not sent", detail: verdict.message || "The server refused that scan." });
    }
  }

  enqueue(scan, why = navigator.onLine ? "The server isn't answering" : "No network") {
    this.connection.show();
    if (!this.queue.add(scan)) {
      this.card.show({ tone: "queued", word: "Already saved", detail: "This badge is already waiting to sync.", scan: true, code: scan.code });
      return;
    }
    this.lastAdmitted = { code: scan.code, event: scan.event, queued: true, nonce: scan.nonce };
    this.card.show({ tone: "queued", word: "Saved offline", undo: true, scan: true, code: scan.code, name: scan.name || "",
                     detail: `${why}: let them in if the badge looks right. It is checked when the server answers again.` });
    this.recent.add({ tone: "queued", word: "Queued", name: scan.name || "", code: scan.code, event: scan.event, id: scan.nonce });
  }

  answered(scan, answer, { synced = false } = {}) {
    const shown = describe(answer, scan.event);
    const person = answer.person || {};
    const undo = answer.status === "ok";
    if (undo) this.lastAdmitted = { code: scan.code, ref: scan.ref, event: scan.event, name: person.name };
    // Someone let in can have their badge printed again (the card offers it on an organiser's page only).
    const admitted = undo || answer.status === "already_checked_in";
    const reprint = admitted ? { code: scan.code, ref: scan.ref, name: person.name || "" } : null;
    if (!synced) {
      this.card.show({ ...shown, name: person.name || "", org: person.organisation || "", needs: person.needs, undo, scan: true,
                       reprint });
    }
    this.recent.add({ tone: shown.tone, word: synced ? `${shown.word} (synced)` : shown.word, name: person.name,
                      detail: shown.tone === "warning" ? shown.detail : "", code: scan.code, ref: scan.ref, event: scan.event, undo,
                      id: synced ? scan.nonce : "" });
    // Offline the door was told "let them in": any other answer is a problem to follow up.
    if (synced && answer.status !== "ok") {
      this.problems.add(scan, { ...shown, detail: syncedDetail(answer, shown, this.userName) }, person);
    }
    this.refreshCounts();
  }

  async undo(target) {
    if (!target) return;
    if (target.queued) {
      this.queue.remove(target.nonce);
      this.card.show({ tone: "queued", word: "Removed", detail: "That saved scan won't be sent." });
      this.lastAdmitted = null;
      return;
    }
    let verdict;
    try {
      const body = target.ref ? { ref: target.ref, event: target.event } : { code: target.code, event: target.event };
      verdict = classify(await this.request("POST", this.undoUrl, body));
    } catch (_) {
      this.card.show({ tone: "error", word: "Undo needs the network", detail: "Try again when you're back online, or tell an organiser." });
      return;
    }
    if (verdict.kind === "answer" && verdict.data.status === "undone") {
      this.card.show({ tone: "queued", word: "Check-in undone", name: target.name || "", detail: "They are no longer counted as arrived." });
      this.recent.add({ tone: "queued", word: "Undone", name: target.name, code: target.code || "", event: target.event });
      this.repeats.undone(`${target.event}|${target.code}`);
      this.refreshCounts();
    } else {
      this.card.show({ tone: "error", word: "Nothing to undo", detail: "They weren't checked in to this event." });
    }
    this.lastAdmitted = null;
  }
}
