// FieldCheck service worker: keeps the app shell so that the app opens with no signal.
//
// The build writes the shell's file list and a version made from their contents into the two lines
// below (`cargo xtask precache`, run by Trunk after every build): install caches every one of those
// files, so one online visit is enough, and a new build means a new cache. Page loads go to the
// network first and fall back to the cached shell; hashed assets come from the cache first. The API
// is never cached: the app's data lives in IndexedDB.
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
    event.respondWith(networkFirstShell(request));
  } else {
    event.respondWith(cacheFirst(request));
  }
});

// A page load: the network's index.html when it answers, else the cached one. The cached copy is not
// replaced here: it belongs to this version's files, and a newer index.html would name assets this
// version does not hold.
async function networkFirstShell(request) {
  try {
    return await fetch(request);
  } catch (offline) {
    const cached = await caches.match(SHELL_PAGE, { cacheName: SHELL_CACHE });
    if (cached) return cached;
    throw offline;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  return fetch(request);
}
