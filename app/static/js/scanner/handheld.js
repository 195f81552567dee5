// Keystroke input: the handheld scanner's box, the bursts a scanner types anywhere on the page (keystrokes.js
// tells them from a person typing), and the scanner's own prefix and suffix, set on the page.

import { codesIn, KeyWedge } from "./keystrokes.js";
import { loadSettings, saveSettings } from "./storage.js";

export class Handheld {
  constructor({ input, settingsForm, settingsStatus, storage, searchInput, search, submit }) {
    Object.assign(this, { input, settingsForm, settingsStatus, storage, submit });
    this.settings = loadSettings(storage);
    // A handheld scanner types wherever the focus is (this box, the name search, or nowhere): its fast bursts
    // are picked out on the whole page, ended by Enter, Tab or a pause.
    this.wedge = new KeyWedge({
      ignore: (element) => Boolean(element && element.closest && element.closest("[data-not-scans]")),
      onScan: (text, { target }) => {
        if (target === searchInput) search.scanned();  // it was a badge, not a name
        this.typed(text);
      },
    });
  }

  focus() {
    // Not on touch screens: focusing a box there pops up the keyboard over the camera.
    if (!matchMedia("(pointer: coarse)").matches) this.input.focus({ preventScroll: true });
  }

  // Every code in what was typed or scanned (AIM identifiers and the scanner's prefix and suffix taken off),
  // each checked in as a scan of its own.
  typed(text, method = "handheld") {
    const codes = codesIn(text, this.settings);
    for (const code of codes) this.submit(code, method);
    return codes.length;
  }

  boxSubmitted(event) {
    event.preventDefault();
    const text = this.input.value;
    this.input.value = "";
    this.typed(text);
  }

  showSettings() {
    this.settingsForm.elements.prefix.value = this.settings.prefix;
    this.settingsForm.elements.suffix.value = this.settings.suffix;
  }

  settingsSaved(event) {
    event.preventDefault();
    const fields = this.settingsForm.elements;
    saveSettings(this.storage, { prefix: fields.prefix.value, suffix: fields.suffix.value });
    this.settings = loadSettings(this.storage);
    this.settingsStatus.textContent = "Saved on this device.";
  }
}
