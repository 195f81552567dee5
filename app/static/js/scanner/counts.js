// Arrived / expected for the chosen event, asked for every few seconds while the server answers. While it is
// down only the retry timer asks (probing), so requests don't pile up on it. One request at a time: figures asked
// for while one is on its way (a second synced scan, say) are asked for again as soon as it answers, so the bar
// never waits for the next timer to show a check-in. Pure apart from navigator.onLine: tests/js/counts.test.mjs.

import { classify } from "./net.js";

export class Counts {
  constructor({ request, url, connection, bar, currentEvent }) {
    this.request = request;
    this.url = url;
    this.connection = connection;
    this.bar = bar;
    this.currentEvent = currentEvent;
    this.counting = false;
    this.askedAgain = false;
  }

  async refresh({ probing = false } = {}) {
    const connection = this.connection;
    if (this.counting && !probing) {
      this.askedAgain = true;  // the answer on its way may predate what changed: ask once more when it comes
      return;
    }
    if (!navigator.onLine || this.counting || (!probing && (connection.link.state !== "online" || !this.currentEvent()))) return;
    this.counting = true;
    let verdict;
    try {
      verdict = classify(await this.request("GET", `${this.url}?event=${encodeURIComponent(this.currentEvent())}`));
    } catch (_) {
      this.askedAgain = false;
      connection.noAnswer();  // keep the last figures
      return;
    } finally {
      this.counting = false;
    }
    if (verdict.kind === "answer") {
      this.bar.showCounts(verdict.data.arrived, verdict.data.expected);
      connection.up({ counted: true });
      if (this.askedAgain) {
        this.askedAgain = false;
        await this.refresh();
      }
    } else if (verdict.kind === "busy" || verdict.kind === "failing") {
      connection.troubled(verdict);
    } else if (probing) {
      connection.up({ counted: true });  // it answered (a refusal is still an answer)
    }
  }
}
