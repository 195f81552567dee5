// The camera's QR decoder: the browser's own BarcodeDetector where it reads QR codes, elsewhere ZXing-C++
// compiled to WebAssembly (npm's barcode-detector ponyfill over zxing-wasm), its .wasm fetched from this
// site, never from the package's default CDN. It reads every code in the whole frame and says which is
// nearest the centre; Hints says what to tell the steward when nothing has read for a while.

/** A decoder: `readAll(source)` resolves to every QR code in the image, video frame or bitmap given. */
export async function createDecoder({ ponyfillUrl, wasmUrl, native = true } = {}) {
  if (native && "BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) return wrap(new window.BarcodeDetector({ formats: ["qr_code"] }), "native");
    } catch (_) { /* no usable native detector: ZXing below */ }
  }
  const zxing = await import(ponyfillUrl);
  // Compile the WebAssembly now, from our own origin, so the camera still starts after the network drops.
  await zxing.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
    fireImmediately: true,
  });
  return wrap(new zxing.BarcodeDetector({ formats: ["qr_code"] }), "zxing-wasm");
}

function wrap(detector, engine) {
  return {
    engine,
    async readAll(source) {
      const codes = await detector.detect(source);
      return codes.filter((code) => code.rawValue).map((code) => ({ text: code.rawValue, box: code.boundingBox }));
    },
  };
}

/** The code whose centre is nearest the frame's centre (the badge being held up, not the one behind). */
export function nearestCentre(codes, width, height) {
  let best = null;
  let bestDistance = Infinity;
  for (const code of codes) {
    const x = code.box.x + code.box.width / 2 - width / 2;
    const y = code.box.y + code.box.height / 2 - height / 2;
    const distance = x * x + y * y;
    if (distance < bestDistance) {
      best = code;
      bestDistance = distance;
    }
  }
  return best;
}

export const HINT_AFTER_MS = 2000;
const SAMPLE_W = 48;
const SAMPLE_H = 27;
const MOVING = 14;  // mean change of a sampled pixel between frames (of 255) above which the phone is moving

/**
 * After HINT_AFTER_MS of frames without a read: "Hold steady" while the picture is moving (the usual cause
 * of a blurred code), else "Move a little closer" (a code too small to read). A read clears it.
 */
export class Hints {
  constructor({ afterMs = HINT_AFTER_MS, now = () => performance.now() } = {}) {
    this.afterMs = afterMs;
    this.now = now;
    this.canvas = null;
    this.reset();
  }

  reset() {
    this.since = null;
    this.previous = null;
    this.motion = 0;
  }

  /** One frame looked at: `read` says whether it gave a code. Returns the hint to show, or null for none. */
  frame(source, { read }) {
    const now = this.now();
    if (read) {
      this.since = now;
      this.previous = null;
      return null;
    }
    if (this.since === null) this.since = now;
    this.motion = 0.6 * this.motion + 0.4 * this.change(source);
    if (now - this.since < this.afterMs) return null;
    return this.motion > MOVING ? "Hold steady" : "Move a little closer";
  }

  change(source) {
    if (!this.canvas) {
      this.canvas = document.createElement("canvas");
      this.canvas.width = SAMPLE_W;
      this.canvas.height = SAMPLE_H;
    }
    const context = this.canvas.getContext("2d", { willReadFrequently: true });
    try {
      context.drawImage(source, 0, 0, SAMPLE_W, SAMPLE_H);
    } catch (_) {
      return 0;
    }
    const pixels = context.getImageData(0, 0, SAMPLE_W, SAMPLE_H).data;
    const grey = new Uint8Array(SAMPLE_W * SAMPLE_H);
    for (let i = 0; i < grey.length; i++) grey[i] = (pixels[4 * i] * 3 + pixels[4 * i + 1] * 6 + pixels[4 * i + 2]) / 10;
    const previous = this.previous;
    this.previous = grey;
    if (!previous) return 0;
    let total = 0;
    for (let i = 0; i < grey.length; i++) total += Math.abs(grey[i] - previous[i]);
    return total / grey.length;
  }
}
