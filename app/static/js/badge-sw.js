// The badge page's offline copy. Registered by badge-page.js with the badge page's own path as its scope,
// so it only ever sees that page and what the page loads. Network first; the saved copy when there is none.
const CACHE = "nh-badge-v1";
const SCOPE = new URL(self.registration.scope);
const BADGE_PAGE = /^\/i\/[^/]+\/badge$/;

async function saveBadgePage() {
  // The page itself, and the stylesheets and scripts it names (it was loaded before this worker existed).
  const cache = await caches.open(CACHE);
  const response = await fetch(SCOPE.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const html = await response.clone().text();
  await cache.put(SCOPE.href, response);
  const assets = [...html.matchAll(/<(?:link[^>]+href|script[^>]+src)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
  await Promise.all(assets.map((path) => cache.add(path).catch(() => undefined)));
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    if (BADGE_PAGE.test(SCOPE.pathname)) await saveBadgePage().catch(() => undefined);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

function mine(url) {
  return url.origin === self.location.origin && (url.href === SCOPE.href || url.pathname.startsWith("/static/"));
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !mine(url) || !BADGE_PAGE.test(SCOPE.pathname)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) {
        await cache.put(event.request, response.clone());
      } else if (response.status === 404 || response.status === 410) {
        await cache.delete(event.request);  // a withdrawn badge must not live on here
      }
      return response;
    } catch (error) {
      const saved = await cache.match(event.request, { ignoreVary: true, ignoreSearch: url.pathname.startsWith("/static/") });
      if (saved) return saved;
      throw error;
    }
  })());
});
