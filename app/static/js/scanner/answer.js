// The answer at the door: the big card over the lower half (word, name, organisation, needs, Undo), the
// rows of "Last scans", and the list of problems after a sync. describe() and syncedDetail() are pure:
// what each server answer is called and how it sounds.

import { byId as $, el, icon, timeOf } from "./dom.js";

export const RESULT_MS = 2500;    // how long the big answer covers the lower half
export const TOGETHER_MS = 2000;  // answers this close together are shown together (two badges at once)
const ALSO_ROWS = 3;
export const RECENT_ROWS = 8;

const REFUSALS = {
  invalid: ["Not a valid badge", "This code isn't one of ours, or it has been replaced or withdrawn. Ask for photo ID and call an organiser."],
  cancelled: ["Place cancelled", "They gave their place back. Call an organiser: there may be a place on the day."],
  not_registered: ["Not registered", "They're invited but have no confirmed place at the summit. Call an organiser."],
  wrong_event: ["Wrong event", "This scanner's event can't be checked in to. Check the event picker at the top."],
};

export function describe(answer, event) {
  if (answer.status === "not_registered" && event && event !== "summit") {
    return { tone: "error", word: "Not signed up",
             detail: "They haven't signed up for this event. Find them by name to check them in as a walk-in." };
  }
  switch (answer.status) {
    case "ok":
      return { tone: "ok", word: "Checked in", detail: "" };
    case "already_checked_in":
      return {
        tone: "warning", word: "Already checked in",
        detail: `at ${timeOf(answer.checked_in_at)}${answer.checked_in_by ? ` by ${answer.checked_in_by}` : ""}`,
      };
    case "incomplete":  // a typo or a misread, not a forgery: the code's check character caught it
      return { tone: "warning", word: "Code incomplete", detail: "That code doesn't look complete — scan it again or type it carefully." };
    default: {
      const [word, detail] = REFUSALS[answer.status] || ["Not accepted", "Call an organiser."];
      return { tone: "error", word, detail };
    }
  }
}

// For a scan saved offline and answered on sync: who let them in before, said from this steward's side.
export function syncedDetail(answer, shown, userName) {
  if (answer.status !== "already_checked_in") return shown.detail;
  const by = answer.checked_in_by;
  const who = !by ? "" : by === userName ? " by you" : ` by ${by} at another door`;
  return `at ${timeOf(answer.checked_in_at)}${who}`;
}

export function renderNeeds(list, needs) {
  list.replaceChildren();
  for (const need of needs || []) {
    list.append(el("li", { class: `need need--${need.kind}` }, icon(need.kind),
      el("span", {}, el("strong", { text: `${need.label}: ` }), need.text)));
  }
}

// The big answer. Scans answered close together (two badges at once, or a scanner that sent two codes) are
// all shown: the newest in full, the ones before it in a list under it, each with its word and name. On an
// organiser's page (reprints), someone let in also gets "Reprint badge" (reprint.js).
export class AnswerCard {
  constructor({ box, beep, refocus, reprints = false }) {
    this.box = box;
    this.beep = beep;        // (tone) => void
    this.refocus = refocus;  // puts the focus back where a handheld scanner types
    this.reprints = reprints;
    this.reprintTarget = null;  // { code, ref, name } of the person whose badge "Reprint badge" prints
    this.together = [];
    this.shownAt = 0;
    this.timer = null;
  }

  show({ tone, word, name = "", org = "", detail = "", needs = [], undo = false, scan = false, code = "", reprint = null }) {
    const now = Date.now();
    this.together = scan && !this.box.hidden && now - this.shownAt < TOGETHER_MS ? this.together : [];
    const earlier = this.together.slice().reverse();
    if (scan) this.together.push({ tone, word, name: name || (code ? `Badge …${code.slice(-4)}` : "Badge") });
    this.shownAt = now;
    const rows = earlier.slice(0, ALSO_ROWS).map((item) => el("li", { class: "result__also-item" },
      el("span", { class: `pill pill--${item.tone === "queued" ? "info" : item.tone}`, text: item.word }), " ",
      el("strong", { text: item.name })));
    if (earlier.length > ALSO_ROWS) rows.push(el("li", { class: "small", text: `and ${earlier.length - ALSO_ROWS} more: see Last scans` }));
    $("result-also").replaceChildren(...rows);
    $("result-also").hidden = !earlier.length;
    this.box.className = `result result--${tone}`;
    $("result-word").textContent = word;
    $("result-name").textContent = name;
    $("result-org").textContent = org;
    $("result-detail").textContent = detail;
    renderNeeds($("result-needs"), needs);
    $("result-undo").hidden = !undo;
    this.reprintTarget = this.reprints && reprint ? reprint : null;
    $("result-reprint").hidden = !this.reprintTarget;
    this.box.hidden = false;
    this.beep(tone);
    clearTimeout(this.timer);
    // Needs stay up longer: the steward has to read them out. So does a card with Reprint badge, to press it.
    this.timer = setTimeout(() => this.hide(), needs.length || this.reprintTarget ? RESULT_MS * 2 : RESULT_MS);
  }

  hide() {
    this.box.hidden = true;
    if (document.activeElement === document.body || this.box.contains(document.activeElement)) this.refocus();
  }
}

// "Last scans". A saved scan's row has its nonce as id, and its outcome takes its place on sync.
export class LastScans {
  constructor({ list, undo }) {
    this.list = list;
    this.undo = undo;  // ({ code, ref, event, name }) => void
  }

  add({ tone, word, name, detail, code = "", ref, event, undo, id = "" }) {
    const item = el("li", { class: `recent recent--${tone}` },
      el("span", { class: `pill pill--${tone === "queued" ? "info" : tone}`, text: word }), " ",
      el("strong", { text: name || `Badge …${code.slice(-4)}` }),
      detail ? el("span", { class: "small", text: ` ${detail}` }) : null);
    if (id) item.dataset.id = id;
    if (undo) {
      const button = el("button", { type: "button", class: "link-button", text: "Undo" });
      button.addEventListener("click", () => this.undo({ code, ref, event, name }));
      item.append(" ", button);
    }
    const list = this.list;
    const queued = id ? Array.from(list.children).find((row) => row.dataset.id === id) : null;
    if (queued) {
      queued.replaceWith(item);
    } else if (tone === "queued" || !id) {
      list.prepend(item);
    }  // else: a synced scan whose queued row has already scrolled off; its problem, if any, is listed below
    while (list.children.length > RECENT_ROWS) list.lastChild.remove();
  }
}

// "Problems after syncing": this steward's, each with a Dismiss button, until dismissed (storage.js keeps them).
export function showProblems(problems) {
  const mine = problems.mine();
  $("problems").hidden = !mine.length;
  $("problem-list").replaceChildren(...mine.map((problem) => {
    const dismiss = el("button", { type: "button", class: "button button--secondary problem__dismiss", text: "Dismiss" });
    const who = problem.name || `Badge …${problem.code.slice(-4)}`;
    dismiss.setAttribute("aria-label", `Dismiss: ${who}`);
    dismiss.addEventListener("click", () => problems.dismiss(problem.id));
    return el("li", { class: "problem" },
      el("p", {}, el("strong", { text: who }), problem.organisation ? el("span", { class: "small", text: `, ${problem.organisation}` }) : null),
      el("p", {}, el("span", { class: "pill pill--error", text: problem.word }), problem.detail ? ` ${problem.detail}` : ""),
      el("p", { class: "small", text: `Let in while offline at ${timeOf(problem.scannedAt)}.` }),
      dismiss);
  }));
}
