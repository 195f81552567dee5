// Finding someone by name: the server's search while it answers, else the event's expected list kept on
// the phone (storage.js), fetched whenever the server answers. A badge code typed, pasted or scanned into
// the name box is a scan.

import { byId as $, el, timeOf } from "./dom.js";
import { codesIn, looksLikeCode } from "./keystrokes.js";
import { classify, newNonce, SCAN_TIMEOUT_MS } from "./net.js";

export const SEARCH_AFTER_MS = 250;  // typing paused this long: search

export class NameSearch {
  constructor({ input, searchUrl, expectedUrl, request, connection, expected, picker, door, settings, user }) {
    Object.assign(this, { input, searchUrl, expectedUrl, request, connection, expected, picker, door, settings, user });
    this.timer = null;
  }

  typed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), SEARCH_AFTER_MS);
  }

  // A handheld scanner typed into the box: it was a badge, not a name.
  scanned() {
    clearTimeout(this.timer);
    this.run();
  }

  async run() {
    const q = this.input.value.trim();
    const list = $("search-results");
    const codes = codesIn(q, this.settings());
    if (codes.length && codes.every(looksLikeCode)) {
      // A badge code in the name box (typed, pasted, or a scanner too slow to tell apart): it is a scan.
      this.input.value = "";
      list.replaceChildren();
      $("search-hint").textContent = "That was a badge code: checked in as a scan.";
      for (const code of codes) this.door.submit(code, "handheld");
      return;
    }
    if (q.length < 3) {
      list.replaceChildren();
      $("search-hint").textContent = "Type at least 3 letters.";
      return;
    }
    if (!this.connection.reachable()) {
      this.offline(q);
      return;
    }
    const event = this.picker.current();
    let verdict;
    try {
      verdict = classify(await this.request("GET", `${this.searchUrl}?event=${encodeURIComponent(event)}&q=${encodeURIComponent(q)}`, undefined, SCAN_TIMEOUT_MS));
    } catch (_) {
      this.connection.noAnswer();
      this.offline(q);
      return;
    }
    if (this.input.value.trim() !== q) return;  // they kept typing
    const results = (verdict.data && verdict.data.results) || [];
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
            await this.door.send({ code: "", ref: person.ref, name: person.name, event: this.picker.current(), method: "manual",
                                   nonce: newNonce(), at: new Date().toISOString(), user: this.user,
                                   confirmed: this.picker.confirmedNotToday(), walkIn: Boolean(person.walk_in) });
            this.run();
          };
          if (this.picker.checked(go)) go();
        });
        item.append(button);
      }
      return item;
    }));
  }

  // The search over the list kept on the phone; someone found is saved as a scan of their reference.
  offline(q) {
    const list = $("search-results");
    const saved = this.expected.find(this.picker.current(), q);
    if (!saved) {
      list.replaceChildren();
      $("search-hint").textContent = "Name search needs the network here: this phone has no list for this event. Scan the badge or type its code.";
      return;
    }
    const found = saved.found;
    $("search-hint").textContent = `Offline: searching the list saved on this phone at ${timeOf(saved.fetchedAt)}. `
      + (found.length ? `${found.length} match${found.length === 1 ? "" : "es"}.` : "Nobody expected by that name.");
    list.replaceChildren(...found.map((person) => {
      const button = el("button", { type: "button", class: "button button--secondary", text: "Check in" });
      button.setAttribute("aria-label", `Check in ${person.name}`);
      button.addEventListener("click", () => {
        const save = () => this.door.enqueue({ code: "", ref: person.ref, name: person.name, event: this.picker.current(), method: "manual",
                                               nonce: newNonce(), at: new Date().toISOString(), user: this.user,
                                               confirmed: this.picker.confirmedNotToday() });
        if (this.picker.checked(save)) save();
      });
      return el("li", { class: "search-result" },
        el("span", { class: "search-result__who" }, el("strong", { text: person.name }), el("span", { class: "small muted", text: person.organisation })),
        el("span", { class: "pill pill--info", text: "Expected" }), button);
    }));
  }

  // The event's expected list, fetched again whenever the server answers (and every few minutes).
  async refreshExpected() {
    const event = this.picker.current();
    if (!event || !this.connection.reachable()) return;
    let verdict;
    try {
      verdict = classify(await this.request("GET", `${this.expectedUrl}?event=${encodeURIComponent(event)}`));
    } catch (_) {
      return;  // the counts and scans notice a silent server; this list just waits for next time
    }
    if (verdict.kind === "answer" && Array.isArray(verdict.data.people)) {
      this.expected.keep(event, verdict.data.people);
    } else if (verdict.signedOut) {
      this.expected.forget();
    }
  }
}
