/* The technician app's service worker (scope /tech/). Pages: network first, the last copy when
   offline. Static files: cache first. Writes (POST) are never touched: the page queues them. */
const VERSION = "dn-tech-v1";
const ASSETS = __ASSETS__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request).then((response) => {
        if (response.ok) caches.open(VERSION).then((cache) => cache.put(request, response.clone()));
        return response;
      }))
    );
    return;
  }
  if (url.pathname.startsWith("/tech/")) {
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(VERSION).then((cache) => cache.put(request, copy));
        }
        return response;
      }).catch(() => caches.match(request).then((hit) => hit || new Response(
        "<!doctype html><meta name=viewport content='width=device-width'><title>Offline</title>" +
        "<p style='font-family:system-ui;padding:1rem'>You are offline and this page was not opened " +
        "before. Go back to <a href='/tech/'>My day</a>; your changes are kept and sent when the signal is back.</p>",
        { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
      )))
    );
  }
});
