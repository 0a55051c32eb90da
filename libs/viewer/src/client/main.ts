import { loadConfig } from './config.js';
import { h } from './dom.js';
import { installTestHook } from './test-hook.js';
import { buildLayout, ViewerApp } from './viewer-app.js';

// The viewer page: layout, configuration from the server, the app, the stats toggle, the test hook.
const root = document.getElementById('app');
if (root === null) throw new Error('no #app element');
const { grid, indicator, empty, statsButton } = buildLayout(root);

const STATS_KEY = 'robocam.stats';
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

try {
  const config = await loadConfig();
  // `?controlHz=50`: teleop commands per second while driving (10–50, default 20).
  const controlHz = Number(new URLSearchParams(location.search).get('controlHz'));
  const running = new ViewerApp({
    grid,
    indicator,
    empty,
    signalingUrl: config.signalingUrl,
    ...(controlHz >= 10 && controlHz <= 50 ? { controlRateHz: controlHz } : {}),
  });
  app = running;
  installTestHook({ signalingUrl: config.signalingUrl, snapshot: () => running.snapshot });
  running.start();
  // Leaving the page (or its going into the back/forward cache) ends the sessions with a bye
  // instead of leaving the sender to notice the silence.
  window.addEventListener('pagehide', () => {
    running.stop();
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
