// The one place the scanner reads the server's replies, and the link's backoff (net.js).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { classify, Link, RETRY_MS, scanBody, trouble } from "../../app/static/js/scanner/net.js";

describe("classify", () => {
  test("a 200 with a body is the server's answer", () => {
    const verdict = classify({ status: 200, data: { status: "ok" }, retryAfter: 0 });
    assert.equal(verdict.kind, "answer");
    assert.deepEqual(verdict.data, { status: "ok" });
    assert.equal(trouble(verdict), "");
  });

  test("busy, failing and garbled replies put the link down, as busy or broken", () => {
    const busy = classify({ status: 429, data: { error: "Slow down" }, retryAfter: 30 });
    assert.deepEqual([busy.kind, busy.retryAfter, trouble(busy)], ["busy", 30, "busy"]);
    for (const status of [500, 502, 503]) {
      const failing = classify({ status, data: null, retryAfter: 0 });
      assert.deepEqual([failing.kind, trouble(failing)], ["failing", "broken"], String(status));
    }
    for (const status of [200, 400, 404]) {  // no JSON: a proxy's page, a cut-off answer
      const garbled = classify({ status, data: null });
      assert.deepEqual([garbled.kind, trouble(garbled)], ["garbled", "broken"], String(status));
    }
  });

  test("a 401 or 403 says the steward is signed out, with the server's sentence", () => {
    for (const status of [401, 403]) {
      const verdict = classify({ status, data: { error: "Sign in again." } });
      assert.deepEqual([verdict.kind, verdict.message, verdict.signedOut, trouble(verdict)], ["signed-out", "Sign in again.", true, ""]);
    }
    // Without a JSON body the link is in trouble, but the steward is still signed out (the name list is forgotten).
    const bare = classify({ status: 401, data: null });
    assert.deepEqual([bare.kind, bare.signedOut], ["garbled", true]);
  });

  test("an out-of-date page is asked to reload; any other answer is a refusal with its reason", () => {
    const expired = classify({ status: 400, data: { error: "Reload the page.", reload: true } });
    assert.deepEqual([expired.kind, expired.message, trouble(expired)], ["expired", "Reload the page.", ""]);
    const refused = classify({ status: 400, data: { error: "That isn't a code." } });
    assert.deepEqual([refused.kind, refused.message, refused.signedOut], ["refused", "That isn't a code.", false]);
    assert.equal(classify({ status: 404, data: {} }).message, "");
  });
});

describe("Link", () => {
  test("asks again after 1, 2, 4, 8, then every 15 s, each with up to a fifth more", () => {
    const link = new Link();
    const pauses = [];
    for (let i = 0; i < 7; i++) {
      link.down("silent", 0, 1000, 0);
      pauses.push(link.retryAt - 1000);
    }
    assert.deepEqual(pauses, [1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    assert.deepEqual(RETRY_MS, [1000, 2000, 4000, 8000, 15000]);
    const jittered = new Link();
    jittered.down("silent", 0, 0, 0.999);
    assert.ok(jittered.retryAt > 1000 && jittered.retryAt < 1200, jittered.retryAt);
  });

  test("waits as long as the server's Retry-After when that is longer", () => {
    const link = new Link();
    link.down("busy", 30, 0, 0);
    assert.equal(link.retryAt, 30000);
    link.down("busy", 1, 0, 0);
    assert.equal(link.retryAt, 2000);
  });

  test("an answer brings it up and starts the backoff again", () => {
    const link = new Link();
    assert.equal(link.up(), false);
    link.down("broken", 0, 0, 0);
    link.down("broken", 0, 0, 0);
    assert.equal(link.reachable(true), false);
    assert.equal(link.up(), true);
    assert.deepEqual([link.state, link.failures, link.retryAt], ["online", 0, 0]);
    assert.equal(link.reachable(true), true);
    assert.equal(link.reachable(false), false);  // the browser offline: never reachable
    link.down("silent", 0, 0, 0);
    assert.equal(link.retryAt, 1000);
  });

  test("an answer while syncing brings it up without touching the retry time", () => {
    const link = new Link("silent");
    link.failures = 3;
    link.retryAt = 5000;
    assert.equal(link.answering(), true);
    assert.deepEqual([link.state, link.failures, link.retryAt], ["online", 0, 5000]);
    assert.equal(link.answering(), false);
  });
});

describe("scanBody", () => {
  test("a scanned badge sends its code; someone found by name their reference and never a code", () => {
    assert.deepEqual(scanBody({ code: "H2-ABC", event: "summit", method: "camera", nonce: "n1" }),
      { code: "H2-ABC", event: "summit", method: "camera", nonce: "n1" });
    assert.deepEqual(scanBody({ code: "", ref: "p7", event: "summit", method: "manual", nonce: "n2" }),
      { ref: "p7", event: "summit", nonce: "n2" });
  });

  test("an event the steward confirmed, and a walk-in chosen on purpose, are said; otherwise left out", () => {
    assert.equal("confirmed" in scanBody({ code: "X", event: "summit", nonce: "n", confirmed: false }), false);
    assert.equal(scanBody({ code: "X", event: "summit", nonce: "n", confirmed: true }).confirmed, true);
    const walkIn = scanBody({ ref: "p3", event: "fringe-a", nonce: "n", walkIn: true });
    assert.deepEqual([walkIn.walk_in, "code" in walkIn], [true, false]);
  });
});
