// The scanner's offline copy, served as /checkin-sw.js with its settings on the first line (the page's path,
// the files it loads, and a version that changes whenever one of them does: app/checkin/offline.py).
// Registered by scanner/main.js with the page's path as its scope, so it sees only the scanner and what it loads.
// The page: the network first (it is short and always fresh), the saved copy when the network fails or the
// server is silent. The files: the saved copy first (the version says when they changed). Nothing else is
// touched: scans, counts, searches and the expected list go to the server as they always did, never cached.
const { version, page, files } = self.SCANNER_OFFLINE;
const FILES_CACHE = `nh-scanner-files-${version}`;
const PAGE_CACHE = "nh-scanner-page";  // one entry, the page; deleted on sign-out (signed-out.js)
const PAGE_TIMEOUT_MS = 3000;          // a server that doesn't answer in this is treated as not there
const saved = new Set(files.map((path) => new URL(path, self.location.origin).href));

async function savePage(response) {
  const cache = await caches.open(PAGE_CACHE);
  if (response.ok && !response.redirected && response.type === "basic") {
    await cache.put(page, response);
  } else if (response.type === "opaqueredirect" || response.redirected || response.status === 401 || response.status === 403) {
    await cache.delete(page);  // signed out, or no longer a steward: no copy of the page stays behind
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(FILES_CACHE);
    // One by one, so a missing optional file doesn't stop the rest being saved.
    await Promise.all(files.map((path) => cache.add(new Request(path, { cache: "reload" })).catch(() => undefined)));
    try {
      await savePage(await fetch(page, { credentials: "same-origin", redirect: "manual" }));
    } catch (_) { /* offline while installing: the page is saved the next time it loads */ }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("nh-scanner-files-") && name !== FILES_CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

async function thePage(event) {
  const fresh = fetch(event.request);
  event.waitUntil(fresh.then((response) => savePage(response.clone())).catch(() => undefined));
  try {
    const response = await withTimeout(fresh, PAGE_TIMEOUT_MS);
    if (response.status < 500) return response;
  } catch (_) { /* no network, or a silent server */ }
  const copy = await caches.match(page, { cacheName: PAGE_CACHE, ignoreSearch: true });
  if (copy) return copy;
  return fresh;  // nothing saved: the browser shows its own error
}

async function aFile(request) {
  const copy = await caches.match(request, { cacheName: FILES_CACHE });
  if (copy) return copy;
  const response = await fetch(request);
  if (response.ok) (await caches.open(FILES_CACHE)).put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === page) {
    event.respondWith(thePage(event));
  } else if (saved.has(url.href)) {
    event.respondWith(aFile(request));
  }
});
