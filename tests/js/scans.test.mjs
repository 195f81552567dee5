// Repeats of one code at the door (scans.js): a handheld scanner's double send is one scan; a badge left in
// front of the camera is answered once, until another code or 10 s out of sight.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DEBOUNCE_MS, IN_VIEW_MS, Repeats } from "../../app/static/js/scanner/scans.js";

const KEY = "summit|NH2-A";
const T = Date.parse("2026-10-14T08:00:00Z");  // times are Date.now()'s

describe("Repeats", () => {
  test("a handheld scanner sending the same code again within 3 s: the same scan", () => {
    const repeats = new Repeats();
    assert.equal(repeats.isRepeat(KEY, "handheld", false, T), false);
    repeats.handled(KEY, T);
    assert.equal(repeats.isRepeat(KEY, "handheld", false, T + DEBOUNCE_MS - 1), true);
    assert.equal(repeats.isRepeat(KEY, "handheld", false, T + DEBOUNCE_MS), false);
    assert.equal(repeats.isRepeat("fringe|NH2-A", "handheld", false, T + 1), false);  // another event: another scan
  });

  test("a badge left in view is answered once, however long it stays", () => {
    const repeats = new Repeats();
    repeats.handled(KEY, T);
    for (let now = 100; now < 4 * IN_VIEW_MS; now += 100) {
      assert.equal(repeats.isRepeat(KEY, "camera", false, T + now), true, String(now));
    }
  });

  test("answered again once it has been out of sight for 10 s, or after another code", () => {
    const repeats = new Repeats();
    repeats.handled(KEY, T);
    assert.equal(repeats.isRepeat(KEY, "camera", false, T + IN_VIEW_MS - 1), true);
    assert.equal(repeats.isRepeat(KEY, "camera", false, T + 2 * IN_VIEW_MS - 1), false);  // unseen for 10 s
    repeats.handled(KEY, T + 2 * IN_VIEW_MS);
    repeats.handled("summit|NH2-B", T + 2 * IN_VIEW_MS + 500);
    assert.equal(repeats.isRepeat(KEY, "camera", false, T + 2 * IN_VIEW_MS + 600), false);
  });

  test("a steward asked about the event is asked once, not once a frame", () => {
    const repeats = new Repeats();
    repeats.asked(KEY, T);
    assert.equal(repeats.isRepeat(KEY, "camera", false, T + 60), true);
    assert.equal(repeats.isRepeat(KEY, "handheld", false, T + 60), false);  // a deliberate scan asks again
  });

  test("forced (Check in from the search, a yes to the event), undone, or another event chosen: not a repeat", () => {
    const repeats = new Repeats();
    repeats.handled(KEY, T);
    assert.equal(repeats.isRepeat(KEY, "manual", true, T + 1), false);
    assert.equal(repeats.isRepeat(KEY, "camera", true, T + 1), false);
    repeats.undone(KEY);
    assert.equal(repeats.isRepeat(KEY, "handheld", false, T + 2), false);
    assert.equal(repeats.isRepeat(KEY, "camera", false, T + 2), false);
    repeats.handled(KEY, T + 3);
    repeats.forget();
    assert.equal(repeats.isRepeat(KEY, "handheld", false, T + 4), false);
  });
});
