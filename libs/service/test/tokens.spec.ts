import { describe, expect, it } from '@jest/globals';
import { tokensEqual } from '../src/index.js';

describe('tokensEqual', () => {
  it('accepts the expected token and nothing else', () => {
    expect(tokensEqual('s3cret', 's3cret')).toBe(true);
    expect(tokensEqual('s3cret!', 's3cret')).toBe(false);
    expect(tokensEqual('s3cre', 's3cret')).toBe(false);
    expect(tokensEqual('', 's3cret')).toBe(false);
    expect(tokensEqual('S3CRET', 's3cret')).toBe(false);
  });

  it('never accepts an absent token, even against an empty expected one', () => {
    expect(tokensEqual(undefined, 's3cret')).toBe(false);
    expect(tokensEqual(undefined, '')).toBe(false);
    expect(tokensEqual('', '')).toBe(true);
  });
});
