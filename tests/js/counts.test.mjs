// The door's arrived / expected figures (counts.js): one request at a time, and none asked for is lost.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { Counts } from "../../app/static/js/scanner/counts.js";

// A server whose answers come only when the test says, in order.
function server() {
  const waiting = [];
  return {
    waiting,
    request: (method, url) => new Promise((resolve, reject) => waiting.push({ method, url, resolve, reject })),
    answer(arrived, expected = 4) {
      waiting.shift().resolve({ status: 200, data: { arrived, expected } });
    },
  };
}

function counts(door, shown) {
  const connection = { link: { state: "online" }, ups: 0, up() { this.ups += 1; }, noAnswer() { this.link.state = "silent"; }, troubled() {} };
  return new Counts({
    request: door.request,
    url: "/checkin/counts",
    connection,
    bar: { showCounts: (arrived, expected) => shown.push([arrived, expected]) },
    currentEvent: () => "summit",
  });
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("Counts", () => {
  beforeEach(() => {
    Object.defineProperty(globalThis, "navigator", { value: { onLine: true }, configurable: true });
  });

  test("figures asked for while a request is on its way are asked for again once it answers", async () => {
    const door = server();
    const shown = [];
    const bar = counts(door, shown);
    const first = bar.refresh();  // the first synced scan
    bar.refresh();  // the second, while the first's figures are on their way
    bar.refresh();  // and a third: still one more request, not two
    assert.equal(door.waiting.length, 1, "one request at a time");
    door.answer(1);  // counted before the second scan reached the server
    await settle();
    assert.equal(door.waiting.length, 1, "asked again at once, not at the next timer");
    assert.equal(door.waiting[0].url, "/checkin/counts?event=summit");
    door.answer(2);
    await first;
    assert.deepEqual(shown, [[1, 4], [2, 4]]);
    assert.equal(door.waiting.length, 0, "nothing more once the figures are current");
  });

  test("a request with no answer asks nothing more: the link is down, and the retry timer probes", async () => {
    const door = server();
    const shown = [];
    const bar = counts(door, shown);
    const first = bar.refresh();
    bar.refresh();
    door.waiting.shift().reject(new Error("timed out"));
    await first;
    assert.deepEqual(shown, []);
    assert.equal(door.waiting.length, 0);
    assert.equal(bar.connection.link.state, "silent");
  });
});
