import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a secret token given by a client equals the expected one, in constant time. Both sides
 * are hashed (SHA-256) first, so neither the comparison's time nor its length check reveals how
 * long the expected token is or how much of it matched. An absent token (`undefined`) never
 * matches.
 */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256')
    .update(given ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}
