// Which event the door opens on, and when a scan must ask first (events.js): the event on now (the latest to
// start, if two overlap), else the next to start today, by London dates, else none; an event not on today
// is checked in to only once the steward has said yes, that day.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { isToday, londonDay, mayScan, openingEvent, todayEvent, withConfirmed } from "../../app/static/js/scanner/events.js";

// An event as the page's <option> gives it: its value, start and end (ISO) and its first and last London days.
function event(value, starts, ends) {
  return { value, starts, ends, firstDay: londonDay(new Date(starts)), lastDay: londonDay(new Date(ends)) };
}

const at = (iso) => new Date(iso);

describe("londonDay", () => {
  test("is the date in London, summer time and winter time alike", () => {
    assert.equal(londonDay(at("2026-06-30T23:30:00Z")), "2026-07-01");  // 00:30 BST
    assert.equal(londonDay(at("2026-06-30T22:30:00Z")), "2026-06-30");
    assert.equal(londonDay(at("2026-12-31T23:30:00Z")), "2026-12-31");  // GMT
    assert.equal(londonDay(at("2027-01-01T00:00:00Z")), "2027-01-01");
  });
});

describe("isToday", () => {
  test("a day in London from the event's first day to its last", () => {
    const twoDays = event("retreat", "2026-10-14T08:00:00Z", "2026-10-15T16:00:00Z");
    assert.equal(isToday(twoDays, at("2026-10-13T22:59:00Z")), false);  // 23:59 on the 13th in London
    assert.equal(isToday(twoDays, at("2026-10-13T23:00:00Z")), true);   // midnight, the 14th
    assert.equal(isToday(twoDays, at("2026-10-15T22:00:00Z")), true);   // 23:00 on the 15th
    assert.equal(isToday(twoDays, at("2026-10-15T23:00:00Z")), false);
  });

  test("an event with no dates is never today", () => {
    assert.equal(isToday({ value: "summit" }, at("2026-10-14T12:00:00Z")), false);
    assert.equal(isToday(undefined), false);
  });
});

describe("todayEvent", () => {
  const summit = event("summit", "2026-10-14T08:30:00Z", "2026-10-14T15:30:00Z");
  const breakfast = event("breakfast", "2026-10-14T07:00:00Z", "2026-10-14T09:00:00Z");
  const evening = event("evening", "2026-10-14T17:00:00Z", "2026-10-14T19:00:00Z");
  const lateEvening = event("late", "2026-10-14T18:00:00Z", "2026-10-14T20:00:00Z");
  const nextWeek = event("next-week", "2026-10-21T17:00:00Z", "2026-10-21T19:00:00Z");

  test("the event on now", () => {
    assert.equal(todayEvent([nextWeek, summit, evening], at("2026-10-14T10:00:00Z")), "summit");
  });

  test("two on now: the latest to start", () => {
    assert.equal(todayEvent([summit, breakfast], at("2026-10-14T08:45:00Z")), "summit");
    assert.equal(todayEvent([breakfast, summit], at("2026-10-14T08:45:00Z")), "summit");
  });

  test("nothing on now: the next to start today", () => {
    assert.equal(todayEvent([lateEvening, summit, evening], at("2026-10-14T16:00:00Z")), "evening");
    assert.equal(todayEvent([summit, nextWeek], at("2026-10-14T06:00:00Z")), "summit");
  });

  test("nothing on now or later today: none, not next week's, nor this morning's", () => {
    assert.equal(todayEvent([summit, nextWeek], at("2026-10-14T16:00:00Z")), "");
    assert.equal(todayEvent([nextWeek], at("2026-10-14T10:00:00Z")), "");
    assert.equal(todayEvent([], at("2026-10-14T10:00:00Z")), "");
  });

  test("worked out for the day the page is opened, not the day it was saved", () => {
    const events = [summit, nextWeek];
    assert.equal(todayEvent(events, at("2026-10-14T10:00:00Z")), "summit");
    assert.equal(todayEvent(events, at("2026-10-21T17:30:00Z")), "next-week");
  });

  test("London's midnight, not UTC's, starts the day", () => {
    const afterMidnight = event("night", "2026-06-30T23:30:00Z", "2026-07-01T01:00:00Z");  // 00:30 BST, 1 July
    assert.equal(todayEvent([afterMidnight], at("2026-06-30T23:05:00Z")), "night");  // 00:05 on 1 July in London
    assert.equal(todayEvent([afterMidnight], at("2026-06-30T22:55:00Z")), "");       // 23:55 on 30 June
  });
});

describe("openingEvent", () => {
  const summit = event("summit", "2026-10-14T08:30:00Z", "2026-10-14T15:30:00Z");
  const nextWeek = event("next-week", "2026-10-21T17:00:00Z", "2026-10-21T19:00:00Z");
  const now = at("2026-10-14T10:00:00Z");

  test("the event named in the address, if it is one of them", () => {
    assert.equal(openingEvent("next-week", [summit, nextWeek], now), "next-week");
  });

  test("else the one on now or next today", () => {
    assert.equal(openingEvent("no-such-event", [summit, nextWeek], now), "summit");
    assert.equal(openingEvent(null, [summit, nextWeek], now), "summit");
    assert.equal(openingEvent(null, [nextWeek], now), "");
  });
});

describe("mayScan", () => {
  const today = at("2026-10-14T10:00:00Z");
  const summit = event("summit", "2026-10-14T08:30:00Z", "2026-10-14T15:30:00Z");
  const later = event("fringe-later", "2026-10-23T17:00:00Z", "2026-10-23T19:00:00Z");

  test("an event on today: straight away", () => {
    assert.equal(mayScan(summit, {}, today), true);
  });

  test("another day's event: asked first, then not again that day", () => {
    assert.equal(mayScan(later, {}, today), false);
    const confirmed = withConfirmed({}, "fringe-later", today);
    assert.deepEqual(confirmed, { "fringe-later": "2026-10-14" });
    assert.equal(mayScan(later, confirmed, at("2026-10-14T20:00:00Z")), true);
  });

  test("a yes is for that event and that day only", () => {
    const confirmed = withConfirmed({ summit: "2026-10-01" }, "fringe-later", today);
    assert.equal(mayScan(later, confirmed, at("2026-10-15T10:00:00Z")), false);  // the next day: asked again
    assert.equal(mayScan(event("other", "2026-11-01T10:00:00Z", "2026-11-01T12:00:00Z"), confirmed, today), false);
    assert.equal(confirmed.summit, "2026-10-01");  // the others kept as they were
  });
});
