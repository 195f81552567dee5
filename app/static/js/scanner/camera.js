// The camera: asks for it (up to 1080p, the back camera), reads every frame with decoder.js (the browser's
// BarcodeDetector, else ZXing-C++ in WebAssembly), hands on the code nearest the centre, says "Hold steady"
// or "Move a little closer" when nothing reads, offers the torch, and explains each way it can fail.

import { byId as $, el } from "./dom.js";

const FRAME_MS = 60;  // the pause between frames read

const CAMERA_PROBLEMS = {
  https: ["The camera needs a secure connection", "Browsers only allow the camera on https:// pages. Use the handheld scanner box or Find someone by name below, or open this page at its https:// address."],
  denied: ["Camera permission was refused", "Allow the camera for this site in your browser's settings (the padlock or ⓘ by the address), then tap Start camera again. Until then, use the handheld box or the name search."],
  none: ["No camera found", "This device has no camera we can use. Use a handheld scanner in the box below, or find people by name."],
  busy: ["The camera is in use", "Another app is using the camera. Close it and tap Start camera again, or use the box below."],
  library: ["The QR reader didn't load", "Reload the page while online. Meanwhile use the handheld box or the name search."],
  other: ["The camera didn't start", "Tap Start camera to try again, or use the handheld box or the name search."],
};

const ERRORS = {
  NotAllowedError: "denied", SecurityError: "denied", PermissionDeniedError: "denied",
  NotFoundError: "none", DevicesNotFoundError: "none", OverconstrainedError: "none",
  NotReadableError: "busy", TrackStartError: "busy",
};

export class Camera {
  constructor({ root, video, videoBox, unlockAudio, refocus, onCode }) {
    Object.assign(this, { root, video, videoBox, unlockAudio, refocus, onCode });
    this.stream = null;
    this.decoder = null;
    this.scanning = false;
    this.decoderReady = null;
  }

  // Load the decoder up front (with its WebAssembly, where there is no BarcodeDetector), so the camera still
  // starts after the network drops.
  loadDecoder() {
    this.decoderReady = (async () => {
      try {
        const { createDecoder, Hints, nearestCentre } = await import("./decoder.js");
        const made = await createDecoder({ ponyfillUrl: this.videoBox.dataset.ponyfillUrl, wasmUrl: this.videoBox.dataset.wasmUrl });
        this.root.dataset.library = "ready";
        this.root.dataset.decoder = made.engine;
        return { decoder: made, hints: new Hints(), nearestCentre };
      } catch (_) {
        this.root.dataset.library = "failed";
        return null;
      }
    })();
  }

  problem(kind) {
    const [title, advice] = CAMERA_PROBLEMS[kind];
    const box = $("camera-message");
    box.replaceChildren(el("p", {}, el("strong", { text: title })), el("p", { text: advice }));
    box.hidden = false;
    box.dataset.problem = kind;
    $("camera-start").hidden = kind === "https" || kind === "none";
    this.stop({ keepMessage: true });
    this.refocus();
  }

  async start() {
    this.unlockAudio();
    $("camera-message").hidden = true;
    if (!window.isSecureContext) return this.problem("https");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return this.problem("none");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        // As many pixels as the camera gives (up to 1080p): a badge at arm's length is then still big enough.
        audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
      });
    } catch (error) {
      return this.problem(ERRORS[error.name] || "other");
    }
    this.decoder = await this.decoderReady;
    if (!this.decoder) return this.problem("library");
    this.decoder.hints.reset();
    this.video.srcObject = this.stream;
    $("video-box").hidden = false;
    try { await this.video.play(); } catch (_) { /* autoplay with muted video is allowed; ignore a race */ }
    $("camera-start").hidden = true;
    $("camera-stop").hidden = false;
    this.offerTorch();
    this.scanning = true;
    this.scanLoop();
  }

  async scanLoop() {
    const video = this.video;
    while (this.scanning) {
      if (video.readyState >= 2 && video.videoWidth) {
        let codes = [];
        try { codes = await this.decoder.decoder.readAll(video); } catch (_) { /* a frame it couldn't take: the next one */ }
        // The whole frame is read; with two badges in view, the one nearest the centre is the one held up.
        const code = this.decoder.nearestCentre(codes, video.videoWidth, video.videoHeight);
        this.root.dataset.codesInView = String(codes.length);
        this.showHint(this.decoder.hints.frame(video, { read: Boolean(code) }));
        if (code && this.scanning) this.onCode(code.text);
      }
      await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
    }
    this.showHint(null);
  }

  showHint(text) {
    const hint = $("camera-hint");
    if (hint.textContent !== (text || "")) hint.textContent = text || "";
    hint.hidden = !text;
  }

  stop({ keepMessage = false } = {}) {
    this.scanning = false;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.srcObject = null;
    $("video-box").hidden = true;
    $("camera-stop").hidden = true;
    $("torch").hidden = true;
    if (!keepMessage) $("camera-message").hidden = true;
    if ($("camera-message").dataset.problem !== "https" && $("camera-message").dataset.problem !== "none") $("camera-start").hidden = false;
  }

  // Give the camera back when the phone locks.
  pageHidden() {
    if (this.stream) this.stop();
  }

  offerTorch() {
    const track = this.stream && this.stream.getVideoTracks()[0];
    const capabilities = track && track.getCapabilities ? track.getCapabilities() : {};
    const button = $("torch");
    button.hidden = !capabilities.torch;
    button.onclick = async () => {
      const on = button.getAttribute("aria-pressed") !== "true";
      try {
        await track.applyConstraints({ advanced: [{ torch: on }] });
        button.setAttribute("aria-pressed", String(on));
        button.textContent = on ? "Torch off" : "Torch on";
      } catch (_) {
        button.hidden = true;
      }
    };
  }
}
