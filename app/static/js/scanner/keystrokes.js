// What a handheld scanner types, made into badge codes. A scanner is a keyboard: it types a code fast and
// then Enter, Tab or nothing (a pause), sometimes with an AIM identifier (]Q1, ]C1 …) or a prefix or
// suffix of its own in front of or behind the code. It types wherever the focus is, the name search too.
// No DOM and no storage here (the settings are kept by storage.js): tests/js/keystrokes.test.mjs runs it in Node.

const AIM_ID = /^\][A-Za-z][0-9A-Za-z]/;          // ] + symbology letter + modifier: ]Q1, ]Q3, ]C1, ]d2
const CODE_START = /(?=NH[0-9]+-)|(?=\][A-Za-z][0-9A-Za-z])/i;  // where a second code begins, if two ran together
const CODE_CHARACTER = "[23456789ABCDEFGHJKMNPQRSTVWXYZ]";  // app/core/badge_codes.py's alphabet
const CODE_SHAPE = new RegExp(`^NH[0-9]+-${CODE_CHARACTER}{27,40}$`);  // 27 characters, more with a check character
const CODE_BEGINNING = new RegExp(`^(\\][A-Za-z][0-9A-Za-z])?N(H([0-9]+(-${CODE_CHARACTER}*)?)?)?$`, "i");
// The first badges (NH1-) have 27 characters; every later kind 28, the last a check character. 27 of a later kind
// is a code whose last character hasn't come yet (app/core/badge_codes.py).
const SHORT_OF_ITS_CHECK = new RegExp(`^NH(?!1-)[0-9]+-${CODE_CHARACTER}{27}$`, "i");

export const PAUSE_MS = 150;      // no key for this long after a fast burst ends the code
export const LONG_PAUSE_MS = 1000;  // … or this long, when what came so far is only the start of a code
const FAST_KEY_MS = 45;           // scanners type a key every few ms; no person types a code this fast
const MIN_BURST = 6;

function trimAffixes(piece, { prefix, suffix }) {
  let text = piece.trim();
  for (let changed = true; changed && text;) {
    changed = false;
    const aim = text.match(AIM_ID);
    if (aim) { text = text.slice(aim[0].length); changed = true; }
    if (prefix && text.startsWith(prefix)) { text = text.slice(prefix.length); changed = true; }
    if (suffix && text.endsWith(suffix)) { text = text.slice(0, -suffix.length); changed = true; }
    // Two codes run together: the second one's prefix ends up on the end of the first.
    if (prefix && text.endsWith(prefix) && text.length > prefix.length) { text = text.slice(0, -prefix.length); changed = true; }
    text = text.trim();
  }
  return text;
}

// Every code in what was typed: AIM identifiers and the scanner's own prefix and suffix taken off.
export function codesIn(raw, settings = { prefix: "", suffix: "" }) {
  const codes = [];
  for (const line of String(raw || "").split(/[\s\u0000-\u001f]+/)) {
    for (const piece of line.split(CODE_START)) {
      const code = trimAffixes(piece, settings);
      if (code) codes.push(code);
    }
  }
  return codes;
}

export function looksLikeCode(text) {
  return CODE_SHAPE.test(String(text || "").trim().toUpperCase());
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : Infinity;
}

// Watches every keystroke on the page (capture phase) and picks out a scanner's bursts, wherever the
// focus is. A burst is a scan when its keys came faster than anyone types; it ends at Enter, Tab or a
// pause. What it typed into a text box is taken out again, so the search box keeps the name being typed.
export class KeyWedge {
  constructor({ onScan, ignore = () => false, timers = globalThis }) {
    this.onScan = onScan;      // (text, { target }) => void
    this.ignore = ignore;      // (element) => true where bursts are not scans (the settings' own boxes)
    this.timers = timers;      // setTimeout and clearTimeout (the tests' own clock in Node)
    this.reset();
  }

  reset() {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.text = "";
    this.times = [];
    this.target = null;
    this.before = null;
  }

  scannerLike() {
    if (this.text.length < MIN_BURST) return false;
    const gaps = this.times.slice(1).map((t, i) => t - this.times[i]);
    return median(gaps) <= FAST_KEY_MS;
  }

  take() {
    const { text, target, before } = this;
    this.reset();
    if (target && before !== null && "value" in target) {
      // Put the box back as it was before the burst (the scanner's characters were typed into it).
      target.value = before;
    }
    this.onScan(text, { target });
  }

  keydown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (this.ignore(target)) { this.reset(); return; }
    const now = event.timeStamp || performance.now();
    if (event.key === "Enter" || event.key === "Tab") {
      if (this.scannerLike()) {
        event.preventDefault();   // not a form submission, not a move of the focus: the end of a code
        event.stopPropagation();
        this.take();
      } else {
        this.reset();
      }
      return;
    }
    if (event.key.length !== 1) return;  // Shift and the like: part of typing, not a character
    if (!this.text) {
      this.target = target;
      this.before = target && typeof target.value === "string" ? target.value : null;
    }
    this.text += event.key;
    this.times.push(now);
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => this.paused(), PAUSE_MS);
  }

  paused() {
    if (!this.scannerLike()) { this.reset(); return; }  // someone typing, who stopped to think
    const cleaned = this.text.trim();
    const code = cleaned.replace(AIM_ID, "");
    if (CODE_BEGINNING.test(cleaned) && (!looksLikeCode(code) || SHORT_OF_ITS_CHECK.test(code))) {
      // Only the start of a code so far (its check character too can be late): a scanner that stalled mid-code,
      // or a page too busy to hear each key as it came. Give it longer.
      this.timer = this.timers.setTimeout(() => (this.scannerLike() ? this.take() : this.reset()), LONG_PAUSE_MS - PAUSE_MS);
      return;
    }
    this.take();
  }
}
