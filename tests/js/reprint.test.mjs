// One badge again from the answer card (reprint.js): who is offered it, what is sent, and what the card says
// for the PDF and for each refusal.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { fileName, Reprint, reprintRefusal } from "../../app/static/js/scanner/reprint.js";
import { Door } from "../../app/static/js/scanner/scans.js";
import { CODE } from "./support.mjs";

const PERSON = { name: "Ada Lovelace", organisation: "Analytical Engines", needs: [] };

// A Door with stand-ins for the parts answered() talks to; card.show's arguments are kept.
function door() {
  const shown = [];
  const d = new Door({
    user: "1", userName: "Lucy Organiser", card: { show: (args) => shown.push(args) },
    recent: { add() {} }, problems: { add() {} }, refreshCounts() {},
  });
  return { d, shown };
}

// A fetch answering once, as the server would; the request it got is kept.
function server(status, { type = "application/json", body = null, disposition = "" } = {}) {
  const calls = [];
  const fetch = async (url, options) => {
    calls.push({ url, options, body: JSON.parse(options.body) });
    const headers = new Map([["content-type", type], ["content-disposition", disposition]]);
    return {
      status,
      headers: { get: (name) => headers.get(name.toLowerCase()) || null },
      blob: async () => ({ pdf: true }),
      json: async () => {
        if (body === null) throw new SyntaxError("not JSON");
        return body;
      },
    };
  };
  return { fetch, calls };
}

function reprinter(fetch, url = "/checkin/reprint") {
  const shown = [];
  const saved = [];
  const reprint = new Reprint({ url, csrf: "token", card: { show: (args) => shown.push(args) }, fetch,
                                save: (blob, name) => saved.push({ blob, name }) });
  return { reprint, shown, saved };
}

describe("who the card offers a reprint", () => {
  test("someone let in (checked in, or already in): their code, or the reference they were found by", () => {
    const { d, shown } = door();
    d.answered({ code: CODE, event: "summit" }, { status: "ok", person: PERSON });
    d.answered({ ref: "p12", event: "summit" }, { status: "already_checked_in", person: PERSON, checked_in_at: "2026-10-14T08:42:00Z" });
    assert.deepEqual(shown.map((s) => s.reprint), [
      { code: CODE, ref: undefined, name: "Ada Lovelace" },
      { code: undefined, ref: "p12", name: "Ada Lovelace" },
    ]);
  });

  test("nobody refused: no reprint for a badge that doesn't let them in", () => {
    const { d, shown } = door();
    for (const status of ["invalid", "incomplete", "cancelled", "not_registered", "wrong_event"]) {
      d.answered({ code: CODE, event: "summit" }, { status, person: status === "cancelled" ? PERSON : null });
    }
    assert.deepEqual(shown.map((s) => s.reprint), [null, null, null, null, null]);
  });
});

describe("Reprint", () => {
  test("posts the code with the page's CSRF token, downloads the PDF under the server's name, and says so", async () => {
    const { fetch, calls } = server(200, { type: "application/pdf", disposition: 'attachment; filename="badge-12.pdf"' });
    const { reprint, shown, saved } = reprinter(fetch);
    await reprint.print({ code: CODE, name: "Ada Lovelace" });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].url, "/checkin/reprint");
    assert.equal(calls[0].options.method, "POST");
    assert.equal(calls[0].options.headers["X-CSRFToken"], "token");
    assert.deepEqual(calls[0].body, { code: CODE });
    assert.deepEqual(saved, [{ blob: { pdf: true }, name: "badge-12.pdf" }]);
    assert.equal(shown.length, 1);
    assert.equal(shown[0].word, "Reprint recorded — printing…");
    assert.equal(shown[0].name, "Ada Lovelace");
    assert.equal(shown[0].reprint, undefined);  // no second button: one press, one reprint
  });

  test("someone found by name is sent by reference (the page never has their code)", async () => {
    const { fetch, calls } = server(200, { type: "application/pdf" });
    const { reprint, saved } = reprinter(fetch);
    await reprint.print({ ref: "p12", name: "Ada Lovelace" });
    assert.deepEqual(calls[0].body, { ref: "p12" });
    assert.equal(saved[0].name, "badge.pdf");
  });

  test("a refusal is shown with the server's sentence, and nothing is downloaded", async () => {
    const refusal = "Only organisers can print a badge again.";
    const { fetch } = server(403, { body: { error: refusal } });
    const { reprint, shown, saved } = reprinter(fetch);
    await reprint.print({ code: CODE, name: "Ada Lovelace" });
    assert.deepEqual(saved, []);
    assert.deepEqual(shown, [{ tone: "error", word: "Not reprinted", detail: refusal, name: "Ada Lovelace" }]);
  });

  test("no network: said, and it can be pressed again", async () => {
    let tries = 0;
    const { reprint, shown } = reprinter(async () => { tries += 1; throw new TypeError("Failed to fetch"); });
    await reprint.print({ code: CODE });
    await reprint.print({ code: CODE });
    assert.equal(tries, 2);
    assert.match(shown[0].detail, /No answer from the server/);
  });

  test("a steward's page (no URL) and a card with nobody on it send nothing", async () => {
    const { fetch, calls } = server(200, { type: "application/pdf" });
    const steward = reprinter(fetch, "");
    assert.equal(steward.reprint.offered, false);
    await steward.reprint.print({ code: CODE });
    const organiser = reprinter(fetch);
    await organiser.reprint.print(null);
    await organiser.reprint.print({ name: "Nobody" });
    assert.equal(calls.length, 0);
  });
});

describe("reprintRefusal", () => {
  test("the server's own sentence when it sends one (400, 401, 403, 404, an expired page)", () => {
    for (const status of [400, 401, 403, 404]) {
      assert.deepEqual(reprintRefusal({ status, data: { error: `Refused ${status}.` } }),
        { tone: "error", word: "Not reprinted", detail: `Refused ${status}.` });
    }
    assert.match(reprintRefusal({ status: 400, data: { error: "This page has expired. Reload it.", reload: true } }).detail, /Reload/);
  });

  test("in our words when it sends none: busy, failing, a garbled answer, no answer", () => {
    assert.match(reprintRefusal({ status: 429, data: null }).detail, /busy/);
    assert.match(reprintRefusal({ status: 500, data: { error: "x" } }).detail, /couldn't make the badge/);
    assert.match(reprintRefusal({ status: 200, data: null }).detail, /couldn't make the badge/);
    assert.match(reprintRefusal({ status: 404, data: null }).detail, /isn't a live badge/);
    assert.match(reprintRefusal({ status: 403, data: null }).detail, /Only organisers/);
    assert.match(reprintRefusal().detail, /No answer from the server/);
  });
});

describe("fileName", () => {
  test("the name the server gives, else badge.pdf", () => {
    assert.equal(fileName('attachment; filename="badge-7.pdf"'), "badge-7.pdf");
    assert.equal(fileName(null), "badge.pdf");
  });
});
