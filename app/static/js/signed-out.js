// On the sign-in page, so signed out on this device: forget what the scanner kept about people — the
// expected lists for the name search, the problems after a sync, the names on saved scans — and its saved
// copy of the page. The saved scans themselves stay: they sync when their steward signs in again.
for (const key of ["nh-expected-v1", "nh-checkin-problems-v1"]) localStorage.removeItem(key);
try {
  const queue = JSON.parse(localStorage.getItem("nh-checkin-queue-v1") || "[]");
  if (queue.some((scan) => scan.name)) {
    localStorage.setItem("nh-checkin-queue-v1", JSON.stringify(queue.map(({ name, ...scan }) => scan)));
  }
} catch (_) { /* nothing readable saved */ }
if (window.caches) caches.delete("nh-scanner-page").catch(() => undefined);
document.documentElement.dataset.deviceForgotten = "true";
