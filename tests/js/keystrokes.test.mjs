// What a handheld scanner types, made into badge codes: AIM identifiers, the scanner's own prefix and suffix,
// Enter, Tab or a pause at the end, and a scanner's burst told from a person typing (keystrokes.js).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { codesIn, KeyWedge, LONG_PAUSE_MS, looksLikeCode, PAUSE_MS } from "../../app/static/js/scanner/keystrokes.js";
import { Clock, CODE, OTHER, key, press, type } from "./support.mjs";

describe("codesIn", () => {
  test("a code on its own is the code", () => {
    assert.deepEqual(codesIn(CODE), [CODE]);
    assert.deepEqual(codesIn(`  ${CODE}\r\n`), [CODE]);
  });

  test("AIM identifiers in front of a code are taken off: ]Q1, ]Q3, ]C1, ]d2", () => {
    for (const aim of ["]Q1", "]Q3", "]C1", "]d2"]) assert.deepEqual(codesIn(aim + CODE), [CODE], aim);
  });

  test("the scanner's own prefix and suffix are taken off, with an AIM identifier too", () => {
    const settings = { prefix: "<<", suffix: "#END" };
    assert.deepEqual(codesIn(`<<${CODE}#END`, settings), [CODE]);
    assert.deepEqual(codesIn(`]Q1<<${CODE}#END`, settings), [CODE]);
    assert.deepEqual(codesIn(`${CODE}#END`, { prefix: "", suffix: "#END" }), [CODE]);
  });

  test("two codes arriving together are two codes, whatever separates them", () => {
    for (const between of ["\n", "\t", "\r\n", " ", ""]) {
      assert.deepEqual(codesIn(`${CODE}${between}${OTHER}\n`), [CODE, OTHER], JSON.stringify(between));
    }
    assert.deepEqual(codesIn(`]Q1${CODE}]Q1${OTHER}`), [CODE, OTHER]);
    // Run together, the second one's prefix ends up on the end of the first.
    assert.deepEqual(codesIn(`<<${CODE}<<${OTHER}`, { prefix: "<<", suffix: "" }), [CODE, OTHER]);
  });

  test("nothing typed is no code", () => {
    assert.deepEqual(codesIn(""), []);
    assert.deepEqual(codesIn(null), []);
    assert.deepEqual(codesIn(" \n\t"), []);
    assert.deepEqual(codesIn("]Q1"), []);
  });
});

describe("looksLikeCode", () => {
  test("a badge code, in any case, looks like one; a name or half a code doesn't", () => {
    assert.equal(looksLikeCode(CODE), true);
    assert.equal(looksLikeCode(` ${CODE.toLowerCase()} `), true);
    assert.equal(looksLikeCode("NH1-23456789ABCDEFGHJKMNPQRSTVW"), true);  // the first badges: 27, no check character
    assert.equal(looksLikeCode("Ada Lovelace"), false);
    assert.equal(looksLikeCode(CODE.slice(0, 20)), false);
    assert.equal(looksLikeCode("NH2-0000000000000000000000000000"), false);  // 0 is not in the alphabet
    assert.equal(looksLikeCode(""), false);
  });
});

function wedge(options = {}) {
  const clock = new Clock();
  const scans = [];
  const w = new KeyWedge({ onScan: (text, { target }) => scans.push({ text, target }), timers: clock, ...options });
  return { clock, scans, w };
}

describe("KeyWedge", () => {
  test("a scanner's burst ended by Enter is one scan, and the Enter is not a form submission", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, CODE.toLowerCase());
    const enter = press(w, clock, "Enter");
    assert.deepEqual(scans.map((s) => s.text), [CODE.toLowerCase()]);
    assert.equal(enter.prevented, true);
    clock.advance(LONG_PAUSE_MS * 2);
    assert.equal(scans.length, 1);  // taken once
  });

  test("a scanner that ends codes with Tab checks in each badge on its own, and the focus stays", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, CODE);
    const first = press(w, clock, "Tab");
    type(w, clock, OTHER);
    const second = press(w, clock, "Tab");
    assert.deepEqual(scans.map((s) => s.text), [CODE, OTHER]);
    assert.equal(first.prevented && second.prevented, true);  // Tab ended a code; it didn't move the focus
  });

  test("a scanner that sends the AIM identifier first is read as the code", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, `]Q1${CODE}`);
    press(w, clock, "Enter");
    assert.deepEqual(scans.map((s) => codesIn(s.text)), [[CODE]]);
  });

  test("a scanner that ends codes with a pause and its own suffix: the pause ends the code", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, `${CODE}#END`);
    clock.advance(PAUSE_MS - 10);
    assert.equal(scans.length, 0);
    clock.advance(10);
    assert.deepEqual(scans.map((s) => codesIn(s.text, { prefix: "", suffix: "#END" })), [[CODE]]);
  });

  test("a scanner that stalls mid-code is given longer, and the code arrives whole", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, CODE.slice(0, 12));
    clock.advance(LONG_PAUSE_MS - 100);  // longer than a pause, shorter than the long one
    assert.equal(scans.length, 0);
    type(w, clock, CODE.slice(12));
    press(w, clock, "Enter");
    assert.deepEqual(scans.map((s) => s.text), [CODE]);
  });

  test("a scanner that stalls just before the check character is given longer too: one scan, not two", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, CODE.slice(0, -1));  // 27 characters: an NH2- code's shape without its last one
    clock.advance(LONG_PAUSE_MS - 100);
    assert.equal(scans.length, 0);
    type(w, clock, CODE.slice(-1));
    clock.advance(PAUSE_MS);
    assert.deepEqual(scans.map((s) => s.text), [CODE]);
  });

  test("a first badge (NH1-, 27 characters and no check character) still ends at the short pause", () => {
    const { clock, scans, w } = wedge();
    const first = "NH1-23456789ABCDEFGHJKMNPQRSTVW";
    type(w, clock, first);
    clock.advance(PAUSE_MS);
    assert.deepEqual(scans.map((s) => s.text), [first]);
  });

  test("a stalled start of a code is taken after the long pause", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, CODE.slice(0, 12));
    clock.advance(LONG_PAUSE_MS - 1);
    assert.equal(scans.length, 0);
    clock.advance(1);
    assert.deepEqual(scans.map((s) => s.text), [CODE.slice(0, 12)]);
  });

  test("a person typing is never taken for a scan: slow keys, Enter left alone", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, "Other Del", { gap: 120 });
    clock.advance(LONG_PAUSE_MS * 2);
    assert.equal(scans.length, 0);
    type(w, clock, CODE, { gap: 120 });  // even a whole code, typed by hand: the box's own Enter sends it
    const enter = press(w, clock, "Enter", { gap: 120 });
    assert.equal(scans.length, 0);
    assert.equal(enter.prevented, false);
  });

  test("a short fast burst is not a scan", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, "abcde");
    const enter = press(w, clock, "Enter");
    clock.advance(LONG_PAUSE_MS);
    assert.equal(scans.length, 0);
    assert.equal(enter.prevented, false);
  });

  test("Shift and keys with Ctrl, Alt or Meta are not characters of a code", () => {
    const { clock, scans, w } = wedge();
    type(w, clock, CODE.slice(0, 10));
    press(w, clock, "Shift");
    w.keydown(key("v", { at: clock.now, ctrlKey: true }));  // a paste
    type(w, clock, CODE.slice(10));
    press(w, clock, "Enter");
    assert.deepEqual(scans.map((s) => s.text), [CODE]);
  });

  test("bursts in the settings' own boxes are not scans", () => {
    const settingsBox = { value: "", closest: () => true };
    const { clock, scans, w } = wedge({ ignore: (element) => Boolean(element && element.closest("[data-not-scans]")) });
    type(w, clock, CODE, { target: settingsBox });
    press(w, clock, "Enter", { target: settingsBox });
    clock.advance(LONG_PAUSE_MS);
    assert.equal(scans.length, 0);
  });

  test("a burst typed into a box is taken out of it again: the name search keeps the name being typed", () => {
    const search = { value: "Ada" };
    const { clock, scans, w } = wedge();
    type(w, clock, CODE, { target: search });
    assert.equal(search.value, `Ada${CODE}`);
    press(w, clock, "Enter", { target: search });
    assert.equal(search.value, "Ada");
    assert.deepEqual(scans, [{ text: CODE, target: search }]);
  });
});
