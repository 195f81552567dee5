// The event picker: the chosen event's full name and date always in sight ("Not today" when it isn't), and
// the question asked once (per tab and day) before the first scan for an event not on today. The rules are
// events.js's; the events confirmed are kept by storage.js.

import { byId as $ } from "./dom.js";
import { isToday, mayScan, openingEvent, withConfirmed } from "./events.js";

// An <option> as events.js sees an event: its value and its data-* attributes (starts, ends, firstDay, lastDay …).
const asEvent = (option) => ({ value: option.value, ...option.dataset });

export class EventPicker {
  constructor({ select, root, confirmed, card }) {
    Object.assign(this, { select, root, confirmed, card });
    this.held = null;  // the scan waiting for the steward to say the event is right
  }

  current() {
    return this.select.value;
  }

  // The event named in the address, else the one on now or next today (again here: the page may be a copy).
  open(wanted) {
    const events = Array.from(this.select.options).filter((option) => option.value).map(asEvent);
    this.select.value = openingEvent(wanted, events);
    this.show();
  }

  show() {
    const option = this.select.selectedOptions[0];
    const chosen = Boolean(option && option.value);
    $("event-title").textContent = chosen ? option.dataset.title : "No event chosen";
    $("event-when").textContent = chosen ? (option.dataset.when || "") : "";
    $("event-not-today").hidden = !chosen || isToday(asEvent(option));
    $("event-choose").hidden = chosen;
    this.root.dataset.event = chosen ? option.value : "";
  }

  // After checked(): whether the steward said yes to an event that isn't on today (the server is told so).
  confirmedNotToday() {
    const option = this.select.selectedOptions[0];
    return Boolean(option && option.value && !isToday(asEvent(option)));
  }

  // True when a scan may go ahead for the chosen event; otherwise asks, and retry() runs on a yes.
  checked(retry) {
    const option = this.select.selectedOptions[0];
    if (!option || !option.value) {
      this.card.show({ tone: "error", word: "Choose the event first", detail: "Pick the event at the top, then scan again." });
      return false;
    }
    if (mayScan(asEvent(option), this.confirmed.load())) return true;
    this.ask(retry);
    return false;
  }

  ask(retry) {
    if (this.held) return;  // already asking
    this.held = retry;
    const option = this.select.selectedOptions[0];
    $("event-confirm-text").textContent =
      `${option.dataset.title} is on ${option.dataset.when || "another day"}, not today. Check people in to it?`;
    $("event-confirm").hidden = false;
    $("event-confirm-yes").focus();
  }

  yes() {
    this.confirmed.save(withConfirmed(this.confirmed.load(), this.current()));
    $("event-confirm").hidden = true;
    const retry = this.held;
    this.held = null;
    if (retry) retry();
  }

  no() {
    this.held = null;
    $("event-confirm").hidden = true;
    this.select.focus();
  }

  // Another event chosen: any question about the last one is dropped.
  changed() {
    this.held = null;
    $("event-confirm").hidden = true;
    this.show();
  }
}
