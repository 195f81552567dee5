// What the scanner keeps on the device (storage.js), with no page: the saved scans, the problems after a sync,
// the expected lists for the name search offline, the events confirmed and the handheld scanner's settings.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  CONFIRMED_KEY, ConfirmedEvents, EXPECTED_KEY, ExpectedLists, loadSettings, PROBLEMS_KEY, Problems, QUEUE_KEY, Queue,
  saveSettings, SETTINGS_KEY,
} from "../../app/static/js/scanner/storage.js";
import { CODE, MemoryStorage, OTHER } from "./support.mjs";

const scan = (fields) => ({ code: CODE, event: "summit", method: "camera", nonce: "n1", at: "2026-10-14T08:42:00Z", user: "7", ...fields });

describe("Queue", () => {
  test("a scan is saved on the device and whoever made the queue is told", () => {
    const storage = new MemoryStorage();
    let changes = 0;
    const queue = new Queue(storage, "7", () => { changes += 1; });
    assert.equal(queue.add(scan()), true);
    assert.deepEqual(JSON.parse(storage.getItem(QUEUE_KEY)), [scan()]);
    assert.equal(changes, 1);
  });

  test("the same badge for the same event waits once; for another event it is another scan", () => {
    const queue = new Queue(new MemoryStorage(), "7");
    queue.add(scan());
    assert.equal(queue.add(scan({ nonce: "n2", method: "handheld" })), false);
    assert.equal(queue.add(scan({ nonce: "n3", event: "fringe-later" })), true);
    assert.equal(queue.add(scan({ nonce: "n4", code: OTHER })), true);
    assert.deepEqual(queue.all().map((item) => item.nonce), ["n1", "n3", "n4"]);
  });

  test("someone found by name offline waits once too, by their reference", () => {
    const queue = new Queue(new MemoryStorage(), "7");
    assert.equal(queue.add(scan({ code: "", ref: "r1", nonce: "a" })), true);
    assert.equal(queue.add(scan({ code: "", ref: "r1", nonce: "b" })), false);
    assert.equal(queue.add(scan({ code: "", ref: "r2", nonce: "c" })), true);
  });

  test("each steward syncs their own; another account's scans stay for them", () => {
    const queue = new Queue(new MemoryStorage(), "7");
    queue.add(scan({ nonce: "mine" }));
    new Queue(queue.storage, "8").add(scan({ nonce: "theirs", code: OTHER, user: "8" }));
    assert.deepEqual(queue.mine().map((item) => item.nonce), ["mine"]);
    assert.equal(queue.all().length, 2);
  });

  test("a scan taken back (Undo) or synced leaves the queue by its nonce", () => {
    let changes = 0;
    const queue = new Queue(new MemoryStorage(), "7", () => { changes += 1; });
    queue.add(scan({ nonce: "a" }));
    queue.add(scan({ nonce: "b", code: OTHER }));
    queue.remove("a");
    assert.deepEqual(queue.all().map((item) => item.nonce), ["b"]);
    assert.equal(changes, 3);
  });

  test("nothing readable saved is an empty queue", () => {
    assert.deepEqual(new Queue(new MemoryStorage({ [QUEUE_KEY]: "{not json" }), "7").all(), []);
    assert.deepEqual(new Queue(new MemoryStorage(), "7").mine(), []);
  });
});

describe("Problems", () => {
  const lucy = { word: "Already checked in", detail: "at 9:42am by Lucy at another door" };

  test("a problem names the person when the server does, else the name saved with the scan", () => {
    const storage = new MemoryStorage();
    let changes = 0;
    const problems = new Problems(storage, "7", () => { changes += 1; });
    problems.add(scan(), lucy, { name: "Grace Hopper", organisation: "Navy Computing" });
    problems.add(scan({ nonce: "n2", code: "", ref: "r", name: "Ivor Invited" }), { word: "Not registered" }, {});
    assert.deepEqual(JSON.parse(storage.getItem(PROBLEMS_KEY)), [
      { id: "n1", user: "7", event: "summit", code: CODE, scannedAt: "2026-10-14T08:42:00Z", word: "Already checked in",
        detail: "at 9:42am by Lucy at another door", name: "Grace Hopper", organisation: "Navy Computing" },
      { id: "n2", user: "7", event: "summit", code: "", scannedAt: "2026-10-14T08:42:00Z", word: "Not registered",
        detail: "", name: "Ivor Invited", organisation: "" },
    ]);
    assert.equal(changes, 2);
  });

  test("one problem per saved scan: a second answer replaces the first", () => {
    const problems = new Problems(new MemoryStorage(), "7");
    problems.add(scan(), { word: "Not accepted" }, {});
    problems.add(scan(), lucy, { name: "Grace Hopper" });
    assert.deepEqual(problems.all().map((problem) => problem.word), ["Already checked in"]);
  });

  test("each stays until dismissed, and each steward sees their own", () => {
    const storage = new MemoryStorage();
    const problems = new Problems(storage, "7");
    problems.add(scan({ nonce: "a" }), lucy, {});
    problems.add(scan({ nonce: "b" }), lucy, {});
    new Problems(storage, "8").add(scan({ nonce: "c", user: "8" }), lucy, {});
    assert.deepEqual(problems.mine().map((problem) => problem.id), ["a", "b"]);
    problems.dismiss("a");
    assert.deepEqual(problems.mine().map((problem) => problem.id), ["b"]);
    assert.deepEqual(new Problems(storage, "8").mine().map((problem) => problem.id), ["c"]);
  });

  test("nothing readable saved is no problems", () => {
    assert.deepEqual(new Problems(new MemoryStorage({ [PROBLEMS_KEY]: "[" }), "7").mine(), []);
  });
});

describe("ExpectedLists", () => {
  const people = [
    { ref: "r1", name: "Zoë Adams", organisation: "Ipswich Borough Council" },
    { ref: "r2", name: "Siân Jones", organisation: "Suffolk County Council" },
    { ref: "r3", name: "Other Delegate 1", organisation: "BT" },
  ];

  test("a list per event, for the signed-in steward only", () => {
    const storage = new MemoryStorage();
    const lists = new ExpectedLists(storage, "7");
    lists.keep("summit", people, "2026-10-14T08:00:00Z");
    assert.deepEqual(new ExpectedLists(storage, "7").load().lists.summit, { fetchedAt: "2026-10-14T08:00:00Z", people });
    assert.deepEqual(new ExpectedLists(storage, "8").load(), { user: "8", lists: {} });
    assert.equal(new ExpectedLists(storage, "7").find("fringe-later", "ada"), null);
  });

  test("names are found whatever the case and the accents", () => {
    const lists = new ExpectedLists(new MemoryStorage(), "7");
    lists.keep("summit", people, "2026-10-14T08:00:00Z");
    assert.deepEqual(lists.find("summit", "zoe").found.map((person) => person.ref), ["r1"]);
    assert.deepEqual(lists.find("summit", "SIAN").found.map((person) => person.ref), ["r2"]);
    assert.deepEqual(lists.find("summit", "other delegate 1").found.map((person) => person.ref), ["r3"]);
    assert.deepEqual(lists.find("summit", "nobody"), { fetchedAt: "2026-10-14T08:00:00Z", found: [] });
  });

  test("at most 20 found", () => {
    const lists = new ExpectedLists(new MemoryStorage(), "7");
    lists.keep("summit", Array.from({ length: 30 }, (_, i) => ({ ref: `r${i}`, name: `Guest ${i}`, organisation: "" })));
    assert.equal(lists.find("summit", "guest").found.length, 20);
  });

  test("forgotten, it is gone from the device", () => {
    const storage = new MemoryStorage();
    const lists = new ExpectedLists(storage, "7");
    lists.keep("summit", people);
    lists.forget();
    assert.equal(storage.getItem(EXPECTED_KEY), null);
    assert.equal(new ExpectedLists(new MemoryStorage({ [EXPECTED_KEY]: "nope" }), "7").find("summit", "zoe"), null);
  });
});

describe("ConfirmedEvents", () => {
  test("kept for the tab, and an empty map when nothing readable is", () => {
    const storage = new MemoryStorage();
    const confirmed = new ConfirmedEvents(storage);
    assert.deepEqual(confirmed.load(), {});
    confirmed.save({ "fringe-later": "2026-10-14" });
    assert.deepEqual(new ConfirmedEvents(storage).load(), { "fringe-later": "2026-10-14" });
    assert.deepEqual(new ConfirmedEvents(new MemoryStorage({ [CONFIRMED_KEY]: "{" })).load(), {});
  });
});

describe("the handheld scanner's settings", () => {
  test("its prefix and suffix are kept on the device", () => {
    const storage = new MemoryStorage();
    assert.deepEqual(loadSettings(storage), { prefix: "", suffix: "" });
    saveSettings(storage, { prefix: "", suffix: "#END" });
    assert.deepEqual(JSON.parse(storage.getItem(SETTINGS_KEY)), { prefix: "", suffix: "#END" });
    assert.deepEqual(loadSettings(storage), { prefix: "", suffix: "#END" });
    assert.deepEqual(loadSettings(new MemoryStorage({ [SETTINGS_KEY]: "}" })), { prefix: "", suffix: "" });
  });
});
