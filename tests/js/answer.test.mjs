// What each answer from the server is called at the door, in which colour (answer.js).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { describe as describeAnswer, syncedDetail } from "../../app/static/js/scanner/answer.js";

const AT = "2026-10-14T08:42:00Z";  // 9:42am in London

describe("describe", () => {
  test("green in, amber already in (when, by whom), amber for a code that isn't complete", () => {
    assert.deepEqual(describeAnswer({ status: "ok" }), { tone: "ok", word: "Checked in", detail: "" });
    assert.deepEqual(describeAnswer({ status: "already_checked_in", checked_in_at: AT, checked_in_by: "Sam Steward" }),
      { tone: "warning", word: "Already checked in", detail: "at 9:42am by Sam Steward" });
    assert.equal(describeAnswer({ status: "already_checked_in", checked_in_at: AT }).detail, "at 9:42am");
    const incomplete = describeAnswer({ status: "incomplete" });
    assert.equal(incomplete.tone, "warning");
    assert.equal(incomplete.detail, "That code doesn't look complete — scan it again or type it carefully.");
  });

  test("red, with the reason, for every refusal", () => {
    const words = { invalid: "Not a valid badge", cancelled: "Place cancelled", not_registered: "Not registered",
                    wrong_event: "Wrong event", something_new: "Not accepted" };
    for (const [status, word] of Object.entries(words)) {
      const shown = describeAnswer({ status });
      assert.deepEqual([shown.tone, shown.word], ["error", word], status);
      assert.ok(shown.detail.length > 10, status);
    }
    assert.match(describeAnswer({ status: "invalid" }).detail, /photo ID/);
  });
});

describe("describe at a fringe event", () => {
  test("someone not signed up for a fringe event is told apart from the summit's not registered", () => {
    const fringe = describeAnswer({ status: "not_registered" }, "fringe-a");
    assert.deepEqual([fringe.tone, fringe.word], ["error", "Not signed up"]);
    assert.match(fringe.detail, /walk-in/);
    assert.equal(describeAnswer({ status: "not_registered" }, "summit").word, "Not registered");
  });
});

describe("syncedDetail", () => {
  test("a saved scan already checked in says by whom, from this steward's side", () => {
    const answer = (by) => ({ status: "already_checked_in", checked_in_at: AT, checked_in_by: by });
    const shown = describeAnswer(answer("Lucy"));
    assert.equal(syncedDetail(answer("Lucy Other-Door"), shown, "Sam Steward"), "at 9:42am by Lucy Other-Door at another door");
    assert.equal(syncedDetail(answer("Sam Steward"), shown, "Sam Steward"), "at 9:42am by you");
    assert.equal(syncedDetail(answer(null), shown, "Sam Steward"), "at 9:42am");
    const refused = describeAnswer({ status: "not_registered" });
    assert.equal(syncedDetail({ status: "not_registered" }, refused, "Sam Steward"), refused.detail);
  });
});
