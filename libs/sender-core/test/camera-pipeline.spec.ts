import { afterEach, describe, expect, it } from '@jest/globals';
import type { Logger } from '@robocam/types';
import { CameraPipeline } from '../src/camera-pipeline.js';
import { TestPatternSource } from '../src/test-pattern-source.js';
import { ViewerSession } from '../src/viewer-session.js';

// Real test pattern sources and real encoders. This machine has no VAAPI device, so
// `encoder: 'vaapi'` is a real encoder that fails to open (EncoderUnavailableError).

const pipelines: CameraPipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((pipeline) => pipeline.close()));
});

function pipeline(
  id: string,
  source: TestPatternSource,
  settings: { encoder?: 'vaapi'; logger?: Logger } = {},
) {
  const created = new CameraPipeline({ id, source, codec: 'vp8', ...settings });
  pipelines.push(created);
  return created;
}

function smallSource(): TestPatternSource {
  return new TestPatternSource({ width: 320, height: 240, fps: 15 });
}

interface RecordedLine {
  /** The line as pino would serialize it. */
  readonly text: string;
  /** Its keys in order, repeated ones included (JSON.parse would silently keep only the last). */
  readonly keys: readonly string[];
}

/** A Logger that keeps every line as pino would serialize it (bindings first, then the object). */
class RecordingLogger implements Logger {
  constructor(
    readonly lines: RecordedLine[] = [],
    readonly bindings: readonly (readonly [string, unknown])[] = [],
  ) {}

  debug(object: object, message?: string): void {
    this.#write('debug', object, message);
  }
  info(object: object, message?: string): void {
    this.#write('info', object, message);
  }
  warn(object: object, message?: string): void {
    this.#write('warn', object, message);
  }
  error(object: object, message?: string): void {
    this.#write('error', object, message);
  }
  child(bindings: object): Logger {
    return new RecordingLogger(this.lines, [...this.bindings, ...Object.entries(bindings)]);
  }

  /** Like pino: the child's bindings and the line's keys are concatenated, not merged. */
  #write(level: string, object: object, message?: string): void {
    const entries = [['level', level], ...this.bindings, ...Object.entries(object), ['msg', message]];
    this.lines.push({
      text: `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value ?? null)}`).join(',')}}`,
      keys: entries.map(([key]) => String(key)),
    });
  }
}

describe('CameraPipeline', () => {
  it('stops its source and detaches when the encoder cannot be opened, on every attempt', async () => {
    const source = smallSource();
    const camera = pipeline('broken', source, { encoder: 'vaapi' });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(camera.acquire()).rejects.toMatchObject({ name: 'EncoderUnavailableError' });
      expect(source.listenerCount('frame')).toBe(0);
      expect(source.status).toBe('idle');
      expect(camera.running).toBe(false);
      expect(camera.info.status).toBe('idle');
    }
    await camera.close();
    expect(source.status).toBe('idle');
    expect(source.listenerCount('frame')).toBe(0);
    expect(source.listenerCount('status')).toBe(0);
  });

  it('close() stops a running source and is idempotent', async () => {
    const source = smallSource();
    const camera = pipeline('cam', source);
    await camera.acquire();
    expect(source.status).toBe('live');
    expect(camera.running).toBe(true);
    await Promise.all([camera.close(), camera.close()]);
    expect(camera.closed).toBe(true);
    expect(source.status).toBe('idle');
    expect(source.listenerCount('frame')).toBe(0);
    await expect(camera.acquire()).rejects.toMatchObject({ code: 'invalid-state' });
  });

  it('writes log lines that never repeat a key under the sender’s child logger', async () => {
    const root = new RecordingLogger();
    const source = smallSource();
    const camera = pipeline('cam', source, { logger: root.child({ camera: 'cam' }) });
    await camera.acquire();
    await camera.release();
    await camera.close();
    expect(root.lines.length).toBeGreaterThanOrEqual(2);
    for (const { text, keys } of root.lines) {
      expect({ text, keys: [...new Set(keys)] }).toEqual({ text, keys });
    }
  });
});

describe('ViewerSession with several cameras', () => {
  it('releases the cameras it acquired when another camera fails to start', async () => {
    const goodSource = smallSource();
    const good = pipeline('good', goodSource);
    const bad = pipeline('bad', smallSource(), { encoder: 'vaapi' });
    const session = new ViewerSession({
      id: 'session-1',
      viewerId: 'viewer-1',
      cameras: [good, bad],
      codec: 'vp8',
      peer: {},
    });
    // The cameras are acquired before the offer is read, so any offer text reaches the failure.
    await expect(session.answer('v=0\r\n')).rejects.toMatchObject({
      code: 'camera-failed',
      cause: expect.objectContaining({ name: 'EncoderUnavailableError' }),
    });
    await session.close();
    expect(good.running).toBe(false);
    expect(good.info.status).toBe('idle');
    expect(goodSource.status).toBe('idle');
    expect(goodSource.listenerCount('frame')).toBe(0);
  });
});
