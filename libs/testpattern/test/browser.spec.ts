import { describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

describe('browser compatibility', () => {
  it('sources use no Node-only APIs', () => {
    for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(srcDir, file), 'utf8');
      expect({ file, nodeImport: /from ['"](node:|fs|path|os|buffer|crypto)['"]/.test(text) }).toEqual({
        file,
        nodeImport: false,
      });
      expect({ file, buffer: /\bBuffer\b|\bprocess\./.test(text) }).toEqual({ file, buffer: false });
    }
  });

  it('decodeTimecode bundles for the browser with esbuild, small and self-contained', async () => {
    const result = await build({
      stdin: {
        contents: "export { decodeTimecode, timecodeGeometry } from './index.ts';",
        resolveDir: srcDir,
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(|node:/);
    expect(code.length).toBeLessThan(8_000);
    // the generator is tree-shaken away
    expect(code).not.toMatch(/poolSize/);
  });
});
