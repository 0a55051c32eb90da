import { loadConfig } from './config.js';
import { h } from './dom.js';
import { installTestHook } from './test-hook.js';
import { TokenForm } from './token-form.js';
import { forgetToken, storedToken, storeToken, takeTokenFromFragment } from './token.js';
import { buildLayout, ViewerApp } from './viewer-app.js';

// The viewer page: layout, configuration from the server, the app, the stats toggle, the test hook.
const root = document.getElementById('app');
if (root === null) throw new Error('no #app element');
const { grid, indicator, empty, statsButton } = buildLayout(root);

const STATS_KEY = 'robocam.stats';
/** How often a page with TURN credentials fetches fresh ones: half the shortest ICE_CREDENTIAL_TTL (600 s). */
const ICE_REFRESH_MS = 5 * 60_000;
const setStatsShown = (shown: boolean): void => {
  document.body.classList.toggle('show-stats', shown);
  statsButton.setAttribute('aria-pressed', String(shown));
  try {
    localStorage.setItem(STATS_KEY, shown ? '1' : '0');
  } catch {
    // Storage may be disabled; the toggle still works for this page.
  }
};
const storedStats = ((): boolean => {
  try {
    return localStorage.getItem(STATS_KEY) === '1';
  } catch {
    return false;
  }
})();
setStatsShown(storedStats);
statsButton.addEventListener('click', () => {
  setStatsShown(!document.body.classList.contains('show-stats'));
});
let app: ViewerApp | undefined;
document.addEventListener('keydown', (event) => {
  // While driving, `s` is the robot's (WASD).
  if (app?.driving === true || event.target instanceof HTMLInputElement) return;
  if (event.key === 's' && !event.ctrlKey && !event.metaKey && !event.altKey) {
    setStatsShown(!document.body.classList.contains('show-stats'));
  }
});

// Out of the address bar first, before anything else happens on the page.
const initialToken = takeTokenFromFragment() ?? storedToken();

try {
  const config = await loadConfig();
  // `?controlHz=50`: teleop commands per second while driving (10–50, default 20).
  const controlHz = Number(new URLSearchParams(location.search).get('controlHz'));
  let ice = { iceServers: config.iceServers, iceTransportPolicy: config.iceTransportPolicy };
  installTestHook({
    signalingUrl: config.signalingUrl,
    snapshot: () => app?.snapshot ?? { signaling: 'idle', error: null, tiles: [] },
  });
  // A refused token is forgotten and the page asks for one; each token gets a fresh app (the
  // refused one's signaling connection is closed for good).
  const form = new TokenForm((token) => {
    storeToken(token);
    run(token);
  });
  empty.before(form.element);
  const run = (token: string | undefined): void => {
    app = new ViewerApp({
      grid,
      indicator,
      empty,
      signalingUrl: config.signalingUrl,
      ...(controlHz >= 10 && controlHz <= 50 ? { controlRateHz: controlHz } : {}),
      rtcConfiguration: () => ({ iceServers: ice.iceServers, iceTransportPolicy: ice.iceTransportPolicy }),
      ...(token === undefined ? {} : { token }),
      onUnauthorized: () => {
        app?.stop();
        forgetToken();
        empty.hidden = true;
        form.show(
          token === undefined
            ? 'This robot’s signaling server needs a viewer token. Enter the one you were given.'
            : 'The signaling server refused this token. Check it and try again.',
        );
      },
    });
    app.start();
  };
  run(initialToken);
  // TURN credentials derived from a shared secret expire (ICE_CREDENTIAL_TTL, a day by default):
  // a page left open keeps fetching fresh ones for its next sessions.
  if (config.iceServers.some((server) => server.credential !== undefined)) {
    setInterval(() => {
      loadConfig().then(
        (fresh) => {
          ice = { iceServers: fresh.iceServers, iceTransportPolicy: fresh.iceTransportPolicy };
        },
        () => undefined, // the server is unreachable for now: keep the last ones
      );
    }, ICE_REFRESH_MS);
  }
  // Leaving the page (or its going into the back/forward cache) ends the sessions with a bye
  // instead of leaving the sender to notice the silence.
  window.addEventListener('pagehide', () => {
    app?.stop();
  });
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  indicator.dataset.state = 'error';
  indicator.textContent = 'error';
  empty.hidden = false;
  empty.replaceChildren(h('strong', {}, 'Cannot start the viewer: '), reason);
  installTestHook({
    signalingUrl: null,
    snapshot: () => ({ signaling: 'idle', error: reason, tiles: [] }),
  });
}
