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
// The note of the older versions' caches kept after a take-over, and of the pages that may still
// use them (see `prune`): in a cache of its own, since the worker may be stopped and started again.
const WORKER_CACHE = 'fieldcheck-worker';
// Each version's note under a key of its own: a worker being replaced, finishing its last events,
// never writes over or deletes the note of the version replacing it.
const OLDER = `/__fieldcheck/older/${SHELL_VERSION}`;
// The older versions' caches stay at least this long after a take-over: a page reloading under the
// old version just then (the page's fallback, on a weak signal) is not yet a page the take-over can
// see, and is noted only at its first fetch of an older file.
const OLDER_GRACE_MS = 5000;
const SHELL_PAGE = '/index.html';
// How long a page load waits for the network before it opens from the cache.
const PAGE_DEADLINE_MS = 1500;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // `no-cache` skips the browser's HTTP cache, so an old copy never lands in the new version.
      await cache.addAll(SHELL_FILES.map((file) => new Request(file, { cache: 'no-cache' })));
      // An older worker's prune may have deleted a cache of this name meanwhile (one left by an
      // install that failed, or this build deployed again): fail, and the browser installs again
      // later, rather than wait to take over with nothing.
      if (!(await caches.has(SHELL_CACHE))) throw new Error('the shell cache went while installing');
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') event.waitUntil(self.skipWaiting());
  // A page of the first visit still not controlled once this worker is active: activate's claim
  // missed it (seen in Chromium now and then), and its screens' files would not come from the cache.
  if (event.data === 'claim') event.waitUntil(self.clients.claim());
  // Prune now, and answer what became of the older versions' caches (see `prune`) on the port sent.
  if (event.data === 'prune' && event.ports[0]) {
    event.waitUntil(inTurn(prune).then((outcome) => event.ports[0].postMessage(outcome)));
  }
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // Every page open now was opened before this version took over and may run an older build:
      // the older versions' caches stay until those pages are gone. This note names every older
      // cache there is, so the notes of the versions before it go.
      await caches.delete(WORKER_CACHE);
      const older = (await caches.keys()).filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE);
      if (older.length > 0) {
        const pages = (await self.clients.matchAll({ type: 'window', includeUncontrolled: true })).map((page) => page.id);
        await writeNote({ version: SHELL_VERSION, at: Date.now(), pages, caches: older });
      }
      olderGone = older.length === 0;
      await self.clients.claim();
    })(),
  );
});

// Whether no older version's cache is kept (or none is this worker's to prune): then no fetch needs
// to ask again. Unknown (false) each time the worker starts.
let olderGone = false;
// Lookups in the older caches and prunes, one at a time, so that a page noted at its first fetch of
// an older file is noted before any prune decides.
let turns = Promise.resolve();
let pruneQueued = false;

function inTurn(work) {
  const done = turns.then(work, work);
  turns = done.catch(() => {});
  return done;
}

async function readNote() {
  try {
    const noted = await caches.match(OLDER, { cacheName: WORKER_CACHE });
    const note = noted && (await noted.json());
    // A newer version's note (this worker is being replaced) is that version's to prune.
    const ours = note && note.version === SHELL_VERSION && Array.isArray(note.pages) && Array.isArray(note.caches);
    return ours ? note : null;
  } catch (unreadable) {
    return null;
  }
}

async function writeNote(note) {
  await (await caches.open(WORKER_CACHE)).put(OLDER, new Response(JSON.stringify(note)));
}

// A file of the older versions noted at the take-over, asked by a page still on one of them: the page
// is noted too (one reloaded just as this version took over was not there to be seen).
function fromOlder(request, page) {
  return inTurn(async () => {
    const note = await readNote();
    for (const name of note ? note.caches : []) {
      const kept = await caches.match(request, { cacheName: name, ignoreSearch: true });
      if (!kept) continue;
      if (page && !note.pages.includes(page)) {
        note.pages.push(page);
        await writeNote(note);
      }
      return kept;
    }
    return undefined;
  });
}

// Asked after every file fetched while older caches may be kept (a reloaded page's fetches come once
// the page it replaced has gone), once the take-over is OLDER_GRACE_MS old.
async function pruneSoon() {
  const note = await readNote();
  // At most the grace itself: a clock set back after the take-over must not hold the fetch's event.
  const wait = note ? Math.min(note.at + OLDER_GRACE_MS - Date.now(), OLDER_GRACE_MS) : 0;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  if (olderGone || pruneQueued) return;
  pruneQueued = true;
  await inTurn(() => {
    pruneQueued = false;
    return prune();
  });
}

// Deletes the older versions' caches noted at the take-over once no page noted is open, and says
// what it did: 'none' noted, kept within the 'grace', 'kept' for a page or a newer version,
// 'pruned', or left to the 'active' worker.
async function prune() {
  const note = await readNote();
  if (!note) {
    olderGone = true;
    return 'none';
  }
  const age = Date.now() - note.at;
  if (age >= 0 && age < OLDER_GRACE_MS) return 'grace';
  const open = await Promise.all(note.pages.map((id) => self.clients.get(id)));
  if (open.some((page) => page)) return 'kept';
  // A newer version installing or waiting may be filling a cache of a noted name (a build deployed
  // again): it notes every other cache itself when it takes over. A worker no longer the active one
  // leaves the pruning to the one that is (checked with no wait before the deletes start).
  if (self.registration.installing || self.registration.waiting) return 'kept';
  if (self.serviceWorker && self.registration.active !== self.serviceWorker) {
    olderGone = true;
    return 'active';
  }
  await Promise.all(note.caches.map((name) => caches.delete(name)));
  await (await caches.open(WORKER_CACHE)).delete(OLDER);
  olderGone = true;
  return 'pruned';
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
    const answer = cacheFirst(request, event.clientId);
    event.respondWith(answer);
    if (!olderGone) event.waitUntil(answer.then(pruneSoon, pruneSoon).catch(() => {}));
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
async function cacheFirst(request, page) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  if (cached) return cached;
  const kept = olderGone ? undefined : await fromOlder(request, page);
  return kept ?? fetch(request);
}
