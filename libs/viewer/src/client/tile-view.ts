import type { CameraInfo } from '@robocam/protocol';
import type { ControlSnapshot, TileStatus } from '../page-hook.js';
import { h, setText } from './dom.js';
import { formatBitrate, formatFps, formatMs, formatPercent, formatSenderLink, formatSize } from './format.js';
import type { FrameReading } from './frame-meter.js';
import type { SenderLinkStats, StreamStats } from './stats.js';

const STATS_FIELDS = [
  ['latency', 'glass-to-glass'],
  // How the latency was measured: from the capture time in RTP (any camera) or the timecode strip.
  ['latency-method', 'measured by'],
  ['codec', 'codec'],
  ['resolution', 'size'],
  ['fps', 'fps'],
  ['bitrate', 'bitrate'],
  ['loss', 'loss'],
  ['rtt', 'RTT'],
  ['jitter', 'jitter buffer'],
  // What the sender's congestion control sees and decided (one line across the overlay).
  ['sender', 'sender'],
  // Teleop: the round trip of this page's commands and how many the sender dropped.
  ['control', 'commands'],
] as const;

/** Telemetry fields shown on a tile; the rest is in the test hook and the devtools. */
const TELEMETRY_FIELDS_SHOWN = 8;
type StatsField = (typeof STATS_FIELDS)[number][0];

/**
 * A tile's DOM: the `<article>` with the media box (one or two `<video>`s), the stats overlay and
 * the caption (camera name, sender, status line). It shows what it is told; the Tile decides.
 */
export class TileView {
  readonly element: HTMLElement;
  readonly #media: HTMLElement;
  readonly #name: HTMLElement;
  readonly #detail: HTMLElement;
  readonly #statusLine: HTMLElement;
  readonly #statsFields = new Map<StatsField, HTMLElement>();
  readonly #controlButton: HTMLButtonElement;
  readonly #controlToken: HTMLInputElement;
  readonly #driver: HTMLElement;
  readonly #telemetry: HTMLElement;

  constructor(
    senderName: string,
    cameraId: string,
    handlers: {
      /** A click or tap (a user gesture). */
      onClick: () => void;
      /** Enter or space with the tile focused. */
      onKeyActivate: () => void;
      /** The control button: take the lease (with the token typed, if any) or release it. */
      onControl: (token: string) => void;
    },
  ) {
    this.#controlButton = h(
      'button',
      { class: 'control-button', attrs: { type: 'button', disabled: '' } },
      'Take control',
    );
    this.#controlToken = h('input', {
      class: 'control-token',
      attrs: {
        type: 'password',
        'aria-label': 'control token',
        placeholder: 'control token',
        autocomplete: 'off',
      },
    });
    this.#controlToken.hidden = true;
    this.#driver = h('span', { class: 'driver', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.#telemetry = h('dl', { class: 'telemetry', attrs: { 'aria-label': 'telemetry' } });
    this.#telemetry.hidden = true;
    const controlBar = h('div', { class: 'control' }, this.#controlButton, this.#controlToken, this.#driver);
    // The controls are not the tile: clicks, Enter and space on them must not enlarge it (the
    // driving keys still reach the page).
    controlBar.addEventListener('click', (event) => {
      event.stopPropagation();
    });
    controlBar.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') event.stopPropagation();
    });
    this.#controlButton.addEventListener('click', () => {
      handlers.onControl(this.#controlToken.value);
    });
    this.#controlToken.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') handlers.onControl(this.#controlToken.value);
    });
    this.#media = h('div', { class: 'media' });
    this.#name = h('span', { class: 'name' });
    this.#detail = h('span', { class: 'sender' });
    this.#statusLine = h('span', { class: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
    const stats = h('dl', { class: 'stats', attrs: { 'aria-label': 'stream statistics' } });
    for (const [field, label] of STATS_FIELDS) {
      const value = h('dd', { attrs: { 'data-stat': field } }, '–');
      this.#statsFields.set(field, value);
      stats.append(h('dt', {}, label), value);
    }
    this.element = h(
      'article',
      { class: 'tile', attrs: { 'data-camera': cameraId, 'data-sender': senderName, tabindex: '0' } },
      this.#media,
      stats,
      this.#telemetry,
      h('div', { class: 'caption' }, this.#name, this.#detail, this.#statusLine),
      controlBar,
    );
    this.element.addEventListener('click', handlers.onClick);
    this.element.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        handlers.onKeyActivate();
      }
    });
  }

  /** Name, sender and shape of the camera. */
  showInfo(info: CameraInfo, senderName: string): void {
    // The tile takes the camera's shape, so the picture fills it (CSSOM: allowed by the CSP).
    this.#media.style.aspectRatio = `${info.width} / ${info.height}`;
    setText(this.#name, info.label || info.id);
    // Labels need not be unique (two test patterns): the id tells cameras apart.
    setText(
      this.#detail,
      info.label === '' || info.label === info.id ? senderName : `${info.id} · ${senderName}`,
    );
    this.element.setAttribute('aria-label', `${info.label || info.id} on ${senderName}`);
  }

  showStatus({ status, text }: { status: TileStatus; text: string }): void {
    this.element.dataset.status = status;
    setText(this.#statusLine, text);
  }

  /**
   * The overlay's numbers, from the active playback's frame meter and receiver stats, and what
   * the sender reports of its side of the link.
   */
  showStats(
    reading: FrameReading | undefined,
    stats: StreamStats | undefined,
    sender: SenderLinkStats | undefined,
  ): void {
    const field = (name: StatsField, text: string): void => {
      const element = this.#statsFields.get(name);
      if (element !== undefined) setText(element, text);
    };
    field('resolution', formatSize(reading?.width ?? stats?.width, reading?.height ?? stats?.height));
    field('fps', formatFps(reading?.fps ?? stats?.decodedFps));
    field('bitrate', formatBitrate(stats?.bitrateKbps));
    field('loss', formatPercent(stats?.packetLossPct));
    field('rtt', formatMs(stats?.rttMs));
    field('jitter', formatMs(stats?.jitterBufferMs));
    field('codec', stats?.codec ?? '–');
    field('sender', formatSenderLink(sender));
    field(
      'latency',
      reading?.latencyMs !== undefined
        ? formatMs(reading.latencyMs)
        : reading?.timecode === false
          ? 'no timecode'
          : '–',
    );
    field(
      'latency-method',
      reading?.latencyMethod === 'capture-time'
        ? 'capture time'
        : reading?.latencyMethod === 'timecode'
          ? 'timecode strip'
          : '–',
    );
  }

  /** The control bar (button, who drives), the telemetry panel and the overlay's command line. */
  showControl(control: ControlSnapshot): void {
    const button = this.#controlButton;
    setText(button, control.you ? 'Release control' : 'Take control');
    button.setAttribute('aria-pressed', String(control.you));
    button.disabled = !control.available || (control.holder !== null && !control.you);
    this.#controlToken.hidden = control.you || !control.tokenRequired;
    this.element.dataset.driving = control.you ? 'true' : 'false';
    const driver = control.you
      ? `You drive (arrows/WASD or a gamepad)${control.lastStop === null ? '' : ` · stopped: ${control.lastStop}`}`
      : control.holder !== null
        ? `${control.holder} drives`
        : control.denied !== null
          ? `Control refused: ${control.denied}`
          : control.lastStop !== null
            ? `Nobody drives (stopped: ${control.lastStop})`
            : control.available
              ? 'Nobody drives'
              : '';
    setText(this.#driver, driver);

    const entries = Object.entries(control.telemetry ?? {}).slice(0, TELEMETRY_FIELDS_SHOWN);
    this.#telemetry.hidden = entries.length === 0;
    const text = entries.map(([key, value]) => `${key}\u0000${formatTelemetryValue(value)}`).join('\u0001');
    if (this.#telemetry.dataset.text !== text) {
      this.#telemetry.dataset.text = text;
      this.#telemetry.replaceChildren(
        ...entries.flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, formatTelemetryValue(value))]),
      );
    }
    const field = this.#statsFields.get('control');
    if (field !== undefined) {
      setText(
        field,
        control.commandsSent === 0
          ? '–'
          : `${formatMs(control.commandRttMs ?? undefined)} RTT · ${control.commandsDropped} dropped`,
      );
    }
  }

  /** Shows `video` as the active one, on top of any other. */
  showActive(video: HTMLVideoElement): void {
    video.dataset.active = '';
    this.#media.append(video);
  }

  /** Puts `video` under the playing one (make before break: it takes over at its first frame). */
  showPending(video: HTMLVideoElement): void {
    this.#media.prepend(video);
  }
}

/** A telemetry value in a few characters: numbers to 3 significant digits, objects as JSON. */
function formatTelemetryValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(3);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
