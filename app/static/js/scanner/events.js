// Which event the door is at, by London dates: the one on now, else the next to start today, else none, and
// whether a scan for the chosen one may go ahead or must ask first. Pure: an event is a plain object
// { value, starts, ends, firstDay, lastDay } (an <option>'s value and data-* attributes), "now" is given,
// and the events the steward confirmed are a map passed in (storage.js keeps it). tests/js/events.test.mjs.

export function londonDay(date = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

export function isToday(event, now = new Date()) {
  const today = londonDay(now);
  return Boolean(event && event.firstDay && event.firstDay <= today && today <= event.lastDay);
}

// The same rule as the server's (checkin.services.today_event): on now, else next to start today, else none.
// Worked out here too because a page saved for offline use may be opened on a later day.
export function todayEvent(events, now = new Date()) {
  const today = events.filter((event) => isToday(event, now));
  const starts = (event) => new Date(event.starts);
  const onNow = today.filter((event) => starts(event) <= now && now <= new Date(event.ends));
  if (onNow.length) return onNow.reduce((a, b) => (starts(b) > starts(a) ? b : a)).value;
  const later = today.filter((event) => starts(event) > now);
  if (later.length) return later.reduce((a, b) => (starts(b) < starts(a) ? b : a)).value;
  return "";
}

// The event named in the page's address if it is one of them, else the one on now or next today.
export function openingEvent(wanted, events, now = new Date()) {
  return wanted && events.some((event) => event.value === wanted) ? wanted : todayEvent(events, now);
}

// A scan for an event not on today goes ahead only once the steward has said yes to it, today.
export function mayScan(event, confirmed, now = new Date()) {
  return isToday(event, now) || confirmed[event.value] === londonDay(now);
}

export function withConfirmed(confirmed, value, now = new Date()) {
  return { ...confirmed, [value]: londonDay(now) };
}
