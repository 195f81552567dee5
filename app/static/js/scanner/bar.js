// The bar under the event: arrived / expected, the scans waiting to sync, the state of the link, and the line
// under "Last scans" that says how syncing went or why it can't.

import { byId as $, timeOf } from "./dom.js";

export const LINK_WORDS = {
  online: "Online",
  offline: "Offline — saving scans",
  silent: "Server not answering — saving scans",
  busy: "Server busy — saving scans",
  broken: "Server error — saving scans",
};

export class StatusBar {
  constructor({ root }) {
    this.root = root;
    // Why this page can't send its saved scans (it has expired, or the steward is signed out): said for as long as
    // scans wait, through every attempt to sync, until one goes through.
    this.blocked = "";
  }

  showLink(link, online) {
    const label = $("network");
    label.textContent = LINK_WORDS[online ? link.state : "offline"];
    label.classList.toggle("scanner__net--offline", !link.reachable(online));
    this.root.dataset.link = online ? link.state : "offline";
  }

  // queue: every account's saved scans on this device; mine: this steward's.
  showPending(queue, mine) {
    const count = mine.length;
    $("pending").textContent = String(count);
    $("status-bar").classList.toggle("scanner__bar--pending", count > 0);
    const others = queue.length - count;
    $("sync-status").textContent = others
      ? `${others} scan${others === 1 ? "" : "s"} saved on this phone by another account will sync when they sign in here.`
      : (count ? this.blocked : $("sync-status").textContent);
  }

  block(message) {
    this.blocked = message;
    $("sync-status").textContent = message;
  }

  unblock() {
    this.blocked = "";
  }

  synced(count) {
    $("sync-status").textContent = `Synced ${count} saved scan${count === 1 ? "" : "s"} at ${timeOf(new Date().toISOString())}.`;
  }

  showCounts(arrived, expected) {
    $("arrived").textContent = arrived;
    $("expected").textContent = expected;
  }
}
