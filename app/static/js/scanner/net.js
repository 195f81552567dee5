// The link to the server: one request function (with a timeout), the one place a reply is classified, and
// the state of the link with its backoff. What the bar says is what the page last saw: the browser offline,
// the server silent (requests timing out), busy (429) or failing (5xx). While it is down, scans go straight
// to the queue and the page retries in the background with growing pauses, then syncs by itself once the
// server answers. classify() and Link are pure: tests/js/net.test.mjs.

// A scan is answered or queued within 1.5 s: a server that has not answered by then is treated as offline.
export const SCAN_TIMEOUT_MS = 1000;  // leaves half a second of the 1.5 s promise for saving and showing it, on a busy phone
export const BACKGROUND_TIMEOUT_MS = 5000;  // syncing and counts: nobody is waiting at the door for these
export const RETRY_MS = [1000, 2000, 4000, 8000, 15000];  // backoff while the server is not answering

// Every scan carries one, so sending it again is safe: the server answers a repeat with its first answer.
export function newNonce() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// A request function for the page's session: JSON bodies carry its CSRF token. The function rejects
// (a network error, or the timeout's AbortError) when there is no answer in time.
export function requester(csrf) {
  return async function request(method, url, body, timeout = BACKGROUND_TIMEOUT_MS) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      const response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: body ? { "Content-Type": "application/json", "X-CSRFToken": csrf } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: controller.signal,
      });
      let data = null;
      try { data = await response.json(); } catch (_) { /* not JSON: treated as a server problem */ }
      return { status: response.status, data, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
    } finally {
      clearTimeout(timer);
    }
  };
}

// What a reply means, for every caller alike. `kind` is one of:
//   answer      200 with a body: the server's answer
//   busy        429: slow down (retryAfter says for how long, in seconds)
//   failing     5xx
//   garbled     no JSON body (a proxy's page, a cut-off answer): the server isn't really answering
//   signed-out  401 or 403: the steward's session is over, or no longer a steward
//   expired     the page's CSRF token is out of date: it asks for a reload
//   refused     any other answer: the server refused this request (message says why, when it does)
// signedOut is true for any 401 or 403, whatever its body.
// What a scan sends: its code, or the reference of someone found by name (the search gives no codes), and
// whether the steward said yes to an event not on today (the server refuses such an event otherwise) or chose
// a fringe walk-in on purpose.
export function scanBody(scan) {
  const body = scan.ref ? { ref: scan.ref, event: scan.event, nonce: scan.nonce }
    : { code: scan.code, event: scan.event, method: scan.method, nonce: scan.nonce };
  if (scan.confirmed) body.confirmed = true;
  if (scan.walkIn) body.walk_in = true;
  return body;
}

export function classify({ status, data, retryAfter = 0 }) {
  const signedOut = status === 401 || status === 403;
  const message = (data && data.error) || "";
  const kind = status === 200 && data ? "answer"
    : status === 429 ? "busy"
    : status >= 500 ? "failing"
    : data === null ? "garbled"
    : signedOut ? "signed-out"
    : data.reload ? "expired"
    : "refused";
  return { kind, data, message, retryAfter, signedOut };
}

// Replies after which the link counts as down, and what the bar calls it.
export function trouble(verdict) {
  return { busy: "busy", failing: "broken", garbled: "broken" }[verdict.kind] || "";
}

// The state of the link: online, offline (the browser says so), silent, busy or broken; how many times in a
// row it failed, and when to ask again.
export class Link {
  constructor(state = "online") {
    this.state = state;
    this.failures = 0;
    this.retryAt = 0;
  }

  // It answered: true if it had been down.
  up() {
    const wasDown = this.state !== "online";
    this.state = "online";
    this.failures = 0;
    this.retryAt = 0;
    return wasDown;
  }

  // It answered while syncing: online again, without forgetting when the retry timer was due.
  answering() {
    if (this.state === "online") return false;
    this.state = "online";
    this.failures = 0;
    return true;
  }

  // It failed: 1, 2, 4, 8, then every 15 s (plus up to a fifth, so several phones at one door don't all
  // retry at once), or longer if the server said so (Retry-After, in seconds).
  down(state, retryAfterSeconds = 0, now = Date.now(), random = Math.random()) {
    this.state = state;
    this.failures += 1;
    const pause = RETRY_MS[Math.min(this.failures - 1, RETRY_MS.length - 1)];
    const jitter = random * 0.2 * pause;
    this.retryAt = now + Math.max(pause + jitter, retryAfterSeconds * 1000);
  }

  reachable(online) {
    return online && this.state === "online";
  }
}

// The link as the page lives it: the bar shown on every change, and a retry timer while it is down that
// asks the server again (probe). wentUp(wasDown, counted) says what to do once it answers.
export class Connection {
  constructor({ online = () => navigator.onLine, show, wentUp, probe }) {
    this.online = online;
    this.link = new Link(online() ? "online" : "offline");
    this.show = show;
    this.wentUp = wentUp;
    this.probe = probe;
    this.retryTimer = null;
  }

  reachable() {
    return this.link.reachable(this.online());
  }

  up({ counted = false } = {}) {
    const wasDown = this.link.up();
    clearTimeout(this.retryTimer);
    this.show();
    this.wentUp(wasDown, counted);
  }

  down(state, retryAfterSeconds = 0) {
    this.link.down(state, retryAfterSeconds);
    this.show();
    clearTimeout(this.retryTimer);
    if (state !== "offline") this.retryTimer = setTimeout(() => this.probe(), this.link.retryAt - Date.now());
  }

  // No answer in time, or the network went mid-request.
  noAnswer() {
    this.down(this.online() ? "silent" : "offline");
  }

  // A reply that says the server is in trouble (busy, failing, garbled): down, as the reply says.
  troubled(verdict) {
    this.down(trouble(verdict), verdict.retryAfter);
  }

  answering() {
    if (this.link.answering()) this.show();
  }

  offline() {
    this.link.state = "offline";
    this.show();
  }
}
