// FieldCheck service worker: keeps the app shell so that the app opens with no signal.
//
// The build writes the shell's file list and a version made from their contents into the two lines
// below (`cargo xtask precache`, run by Trunk after every build): install caches every one of those
// files, so one online visit is enough, and a new build means a new cache. Page loads and hashed
// assets come from this version's cache first, the network only for what it lacks. The API is never
// cached: the app's data lives in IndexedDB.
//
// A new version installs beside the running one and waits: the app shows "新版本可用 — 重新载入", keeps
// the open form, and only then tells the waiting worker to take over.
const SHELL_VERSION = 'dev';
const SHELL_FILES = ['/index.html'];

const SHELL_CACHE = `fieldcheck-shell-${SHELL_VERSION}`;
const SHELL_PAGE = '/index.html';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // `no-cache` skips the browser's HTTP cache, so an old copy never lands in the new version.
      await cache.addAll(SHELL_FILES.map((file) => new Request(file, { cache: 'no-cache' })));
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith('fieldcheck-shell-') && name !== SHELL_CACHE).map((name) => caches.delete(name)),
      );
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
    event.respondWith(cachedShell(request));
  } else {
    event.respondWith(cacheFirst(request));
  }
});

// A page load: this version's index.html, at once. Not the network first: in a village a weak signal
// answers in tens of seconds or never, and the officer would stare at a blank screen; and the page
// must name the files this version holds. A newer build reaches the phone as a new service worker
// (the browser looks for one on every page load), which waits until the officer taps 重新载入.
async function cachedShell(request) {
  const cached = await caches.match(SHELL_PAGE, { cacheName: SHELL_CACHE });
  return cached ?? fetch(request);
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  return fetch(request);
}
