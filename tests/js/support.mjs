// Stand-ins for what the browser gives the scanner's modules: a clock with timers, key presses, and Storage.

// 27 characters of the code alphabet after NH2- and a check character: the shape of a badge code.
export const CODE = "NH2-23456789ABCDEFGHJKMNPQRSTVWX";
export const OTHER = "NH2-XWVTSRQPNMKJHGFEDCBA98765432";

// setTimeout and clearTimeout on a clock that moves only when told to.
export class Clock {
  constructor(now = 1000) {
    this.now = now;
    this.pending = new Map();
    this.next = 1;
    this.setTimeout = (fn, ms = 0) => {
      const id = this.next++;
      this.pending.set(id, { at: this.now + ms, fn });
      return id;
    };
    this.clearTimeout = (id) => {
      this.pending.delete(id);
    };
  }

  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.pending.delete(id);
      this.now = timer.at;
      timer.fn();
    }
    this.now = until;
  }
}

// A keydown as the page's capture listener sees it.
export function key(name, { at, target = null, ctrlKey = false } = {}) {
  return {
    key: name, timeStamp: at, target, ctrlKey, metaKey: false, altKey: false, prevented: false,
    preventDefault() { this.prevented = true; },
    stopPropagation() {},
  };
}

// Types text on the clock, a key every `gap` ms (a scanner: a few ms; a person: over 100), and returns the events.
export function type(wedge, clock, text, { gap = 5, target = null } = {}) {
  const events = [];
  for (const character of text) {
    clock.advance(gap);
    const event = key(character, { at: clock.now, target });
    wedge.keydown(event);  // keydown comes first; then the browser puts the character in the box
    if (target && "value" in target && !event.prevented) target.value += character;
    events.push(event);
  }
  return events;
}

export function press(wedge, clock, name, { gap = 5, target = null } = {}) {
  clock.advance(gap);
  const event = key(name, { at: clock.now, target });
  wedge.keydown(event);
  return event;
}

// localStorage / sessionStorage.
export class MemoryStorage {
  constructor(entries = {}) {
    this.items = new Map(Object.entries(entries));
  }

  getItem(name) {
    return this.items.has(name) ? this.items.get(name) : null;
  }

  setItem(name, value) {
    this.items.set(name, String(value));
  }

  removeItem(name) {
    this.items.delete(name);
  }
}
