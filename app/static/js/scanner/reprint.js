// One badge printed again from the answer card (left at home, spoilt): organisers only. The card offers
// "Reprint badge" for someone it has just let in; pressing it posts their code (or, found by name, their
// reference) to /checkin/reprint, which records the reprint ("at the door") and answers the badge's PDF, and
// the page downloads it to print. The page has a reprint URL only for an organiser: a steward's card is as it
// was. reprintRefusal() is pure: tests/js/reprint.test.mjs.

export const REPRINT_TIMEOUT_MS = 15000;  // a PDF is made for it: longer than a scan, and someone is waiting

// What the card says when the server gives no PDF: its own sentence when it sends one, else why in our words.
export function reprintRefusal({ status = 0, data = null } = {}) {
  const message = (data && data.error) || "";
  const detail = status === 0 ? "No answer from the server. Try again when you're back online, or print it from their invitation's page."
    : status === 429 ? "The server is busy. Try again in a moment."
    : status >= 500 || (status === 200 && !message) ? "The server couldn't make the badge. Try again, or print it from their invitation's page."
    : message || (status === 401 || status === 403 ? "Only organisers who are signed in can print a badge again."
      : status === 404 ? "That isn't a live badge, so there is nothing to print."
        : "The server refused that reprint.");
  return { tone: "error", word: "Not reprinted", detail };
}

// The file's name from the answer's Content-Disposition, else a plain one.
export function fileName(disposition) {
  const match = /filename="?([^";]+)"?/i.exec(disposition || "");
  return match ? match[1] : "badge.pdf";
}

export class Reprint {
  constructor({ url, csrf, card, fetch = (...args) => window.fetch(...args), save = saveFile }) {
    Object.assign(this, { url, csrf, card, fetch, save });
    this.busy = false;
  }

  // Only an organiser's page has the URL.
  get offered() {
    return Boolean(this.url);
  }

  // target: { code, ref, name } of the person on the card.
  async print(target) {
    if (!this.offered || !target || this.busy || (!target.code && !target.ref)) return;
    this.busy = true;
    const body = target.ref ? { ref: target.ref } : { code: target.code };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REPRINT_TIMEOUT_MS);
    let answer = { status: 0, data: null };
    try {
      const response = await this.fetch(this.url, {
        method: "POST", credentials: "same-origin", signal: controller.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf },
        body: JSON.stringify(body),
      });
      const type = response.headers.get("Content-Type") || "";
      if (response.status === 200 && type.startsWith("application/pdf")) {
        this.save(await response.blob(), fileName(response.headers.get("Content-Disposition")));
        this.card.show({ tone: "queued", word: "Reprint recorded — printing…", name: target.name || "",
                         detail: "Their badge (the same code) is downloading as a PDF: print it on A4." });
        return;
      }
      let data = null;
      try { data = await response.json(); } catch (_) { /* not JSON: said in our words */ }
      answer = { status: response.status, data };
    } catch (_) {
      answer = { status: 0, data: null };  // no answer in time, or no network
    } finally {
      clearTimeout(timer);
      this.busy = false;
    }
    this.card.show({ ...reprintRefusal(answer), name: target.name || "" });
  }
}

// Downloads the PDF (the browser opens or saves it, to print).
function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
