// Sound and vibration for each answer: a tone per kind (ok, warning, error, queued), made by the page
// (Web Audio), so there are no sound files to load or keep offline.

const PATTERNS = {  // [frequency Hz, seconds] per note
  ok: [[880, 0.12]],
  warning: [[660, 0.1], [0, 0.06], [660, 0.1]],
  error: [[220, 0.45]],
  queued: [[520, 0.12]],
};
const VIBRATIONS = { ok: [80], warning: [80, 60, 80], error: [300], queued: [40] };

export class Sound {
  constructor() {
    this.audio = null;
  }

  // Browsers only let a page make sound after a tap: the first tap anywhere sets it up.
  unlock() {
    if (this.audio) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    this.audio = new Context();
    if (this.audio.state === "suspended") this.audio.resume();
  }

  beep(tone) {
    if (navigator.vibrate) navigator.vibrate(VIBRATIONS[tone] || 0);
    const audio = this.audio;
    if (!audio) return;
    let at = audio.currentTime;
    for (const [frequency, length] of PATTERNS[tone] || []) {
      if (frequency) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = tone === "error" ? "square" : "sine";
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.25, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + length);
        osc.connect(gain).connect(audio.destination);
        osc.start(at);
        osc.stop(at + length);
      }
      at += length;
    }
  }
}
