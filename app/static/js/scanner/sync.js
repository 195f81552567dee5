// Sending the saved scans, oldest first, with their nonces (the server settles duplicates). It stops at the
// first sign of trouble and leaves the rest for the retry timer (net.js) or the next reload.

import { classify, scanBody, trouble } from "./net.js";

export class Sync {
  constructor({ request, url, queue, problems, connection, bar, door, showPending, signedOut, pageExpired }) {
    Object.assign(this, { request, url, queue, problems, connection, bar, door, showPending, signedOut, pageExpired });
    this.syncing = false;
    this.timer = null;
  }

  soon(delay = 0) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), delay);
  }

  async run({ probing = false } = {}) {
    const connection = this.connection;
    if (this.syncing || !navigator.onLine) return;
    if (!probing && connection.link.state !== "online") return;  // the retry timer asks when it is time
    const queue = this.queue.mine();
    if (!queue.length) return;
    this.syncing = true;
    let synced = 0;
    try {
      for (const scan of queue) {
        let verdict;
        try {
          verdict = classify(await this.request("POST", this.url, scanBody(scan)));
        } catch (_) {
          connection.noAnswer();
          break;  // still no answer: the retry timer tries again later
        }
        if (trouble(verdict)) {
          connection.troubled(verdict);
          break;
        }
        if (verdict.kind === "signed-out") {
          this.signedOut(verdict.message);
          break;
        }
        if (verdict.kind === "expired") {
          this.pageExpired(verdict.message);
          break;  // kept: they sync once the page is reloaded
        }
        connection.answering();
        this.bar.unblock();
        this.queue.remove(scan.nonce);
        if (verdict.kind === "answer") {
          synced += 1;
          this.door.answered(scan, verdict.data, { synced: true });
        } else {
          this.problems.add(scan, { word: "Not accepted", detail: verdict.message }, {});
        }
      }
    } finally {
      this.syncing = false;
    }
    if (synced) {
      this.bar.synced(synced);
      if (connection.link.state === "online") connection.up();  // the counts, and anything queued meanwhile
    }
    this.showPending();
  }
}
