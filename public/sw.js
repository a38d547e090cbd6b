// FieldCheck service worker: keeps the app shell so that the app opens with no signal.
//
// The build writes the shell's file list and a version made from their contents into the two lines
// below (`cargo xtask precache`, run by Trunk after every build): install caches every one of those
// files, so one online visit is enough, and a new build means a new cache. Page loads go to the
// network first, for 1.5 s at most, then to the cached shell; hashed assets come from the cache first.
// The API is never cached: the app's data lives in IndexedDB.
//
// A new version installs beside the running one and waits: the app shows "新版本可用 — 重新载入", keeps
// the open form, and only then tells the waiting worker to take over. The old version's files stay
// until no page opened before the take-over is left (a second tab, or a page reloaded under the old
// version on a weak signal): such a page still fetches its own build's files, which the server no
// longer has.
const SHELL_VERSION = 'dev';
const SHELL_FILES = ['/index.html'];

const SHELL_PREFIX = 'fieldcheck-shell-';
const SHELL_CACHE = `${SHELL_PREFIX}${SHELL_VERSION}`;
// Where the worker keeps, across its restarts, the pages open and the older caches there when it
// took over (see `prune`).
const WORKER_CACHE = 'fieldcheck-worker';
const OLDER = '/__fieldcheck/older';
const SHELL_PAGE = '/index.html';
// How long a page load waits for the network before it opens from the cache.
const PAGE_DEADLINE_MS = 1500;

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
  if (event.data === 'skip-waiting') event.waitUntil(self.skipWaiting());
  // A page of the first visit still not controlled once this worker is active: activate's claim
  // missed it (seen in Chromium now and then), and its screens' files would not come from the cache.
  if (event.data === 'claim') event.waitUntil(self.clients.claim());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // Every page open now was opened before this version took over and may run an older build:
      // the older versions' caches stay until those pages are gone. Only the caches there are now:
      // one made later is a newer version's, installing or waiting.
      const older = (await caches.keys()).filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE);
      const pages = (await self.clients.matchAll({ type: 'window', includeUncontrolled: true })).map((page) => page.id);
      const kept = await caches.open(WORKER_CACHE);
      await kept.put(OLDER, new Response(JSON.stringify({ pages, caches: older })));
      olderGone = false;
      await self.clients.claim();
      await prune();
    })(),
  );
});

// Whether the older versions' caches noted at the take-over are deleted (or none were noted): then
// no fetch needs to ask again. Unknown (false) each time the worker starts.
let olderGone = false;
let pruning = Promise.resolve();
let pruneQueued = false;

// Asks `prune` after a fetch of a file while older caches may be kept (a reloaded page's first
// fetches come once the page it replaced has gone): one at a time, and once more after the last ask.
function prunePending() {
  if (olderGone || pruneQueued) return pruning;
  pruneQueued = true;
  const run = () => {
    pruneQueued = false;
    return prune();
  };
  pruning = pruning.then(run, run);
  return pruning;
}

// Deletes the older versions' caches noted at the take-over once no page open then is left.
async function prune() {
  const noted = await caches.match(OLDER, { cacheName: WORKER_CACHE });
  if (noted) {
    const { pages, caches: older } = await noted.json();
    const open = await Promise.all(pages.map((id) => self.clients.get(id)));
    if (open.some((page) => page)) return;
    await Promise.all(older.map((name) => caches.delete(name)));
    await caches.delete(WORKER_CACHE);
  }
  olderGone = true;
}

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
    if (!olderGone) event.waitUntil(prunePending().catch(() => {}));
  }
});

// A page load: the network's index.html if it answers within PAGE_DEADLINE_MS, else this version's
// cached copy. The network first keeps every phone that is online on the newest build even when a new
// worker cannot install (a weak link breaking the download of the whole shell) or an old build cannot
// start; the deadline keeps a village's weak signal, which answers in tens of seconds or never, from
// holding the officer at a blank screen. The cached copy is not replaced here: it belongs to this
// version's files, and a newer index.html would name assets this version does not hold.
async function networkFirstShell(request) {
  const network = fetch(request);
  // A network that fails after the deadline fails unheard: the cached copy answered already.
  network.catch(() => {});
  const late = new Promise((resolve) => setTimeout(resolve, PAGE_DEADLINE_MS));
  try {
    const answer = await Promise.race([network, late]);
    if (answer) return answer;
  } catch (offline) {
    // No network at all: the cached copy, below.
  }
  const cached = await caches.match(SHELL_PAGE, { cacheName: SHELL_CACHE });
  return cached ?? network;
}

// A file of this version from its cache; one only an older version has (asked by a page still on
// that version) from that version's cache, kept while such a page is open; anything else from the
// network.
async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  if (!olderGone) {
    const older = (await caches.keys()).filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE);
    for (const name of older) {
      const kept = await (await caches.open(name)).match(request, { ignoreSearch: true });
      if (kept) return kept;
    }
  }
  return fetch(request);
}
