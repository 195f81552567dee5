// Save the badge page on the phone (a service worker scoped to this page alone), so it opens without signal.
const status = document.getElementById("offline-status");

async function keepOffline() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  try {
    const script = document.querySelector("[data-sw]").dataset.sw;
    await navigator.serviceWorker.register(script, { scope: location.pathname });
    await navigator.serviceWorker.ready;
    if (status) status.textContent = "Saved on this phone: this badge opens even without signal.";
    document.documentElement.dataset.offlineReady = "true";
  } catch (_) {
    // Private browsing and some browsers refuse: the page still works online, and the PDF can be printed.
  }
}

keepOffline();
