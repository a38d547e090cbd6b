// FieldCheck service worker: keeps the app shell so that the app opens with no signal.
//
// Install reads index.html and caches every asset it names (Trunk gives them hashed names), so one
// online visit is enough. Page loads go to the network first and fall back to the cached shell; hashed
// assets come from the cache first. The API is never cached: the app's data lives in IndexedDB.
const SHELL_CACHE = 'fieldcheck-shell-v1';
const SHELL_PAGE = '/index.html';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      const response = await fetch(SHELL_PAGE, { cache: 'no-store' });
      if (!response.ok) throw new Error(`index.html answered ${response.status}`);
      const html = await response.clone().text();
      const assets = new Set();
      for (const match of html.matchAll(/["'](\/[^"'?#]+\.(?:js|wasm|css|webmanifest|png|svg|ico))["']/g)) {
        assets.add(match[1]);
      }
      await cache.put(SHELL_PAGE, response);
      await cache.addAll([...assets]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name !== SHELL_CACHE).map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) {
    return;
  }
  if (request.mode === 'navigate') {
    event.respondWith(networkFirstShell(request));
  } else {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirstShell(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    const type = response.headers.get('content-type') || '';
    if (response.ok && type.startsWith('text/html')) {
      await cache.put(SHELL_PAGE, response.clone());
    }
    return response;
  } catch (offline) {
    const cached = await cache.match(SHELL_PAGE);
    if (cached) return cached;
    throw offline;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
