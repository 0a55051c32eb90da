/**
 * Response headers of every page and file: a strict Content Security Policy (the page's own script
 * and styles only, WebSocket connections to the signaling origin only, no framing) and the usual
 * hardening headers.
 */
export function securityHeaders(connectSources: readonly string[]): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    // <video> plays a MediaStream (srcObject), which no fetch directive governs.
    "media-src 'self' blob:",
    `connect-src ${["'self'", ...connectSources].join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  };
}

/** Long-lived, never revalidated: file names under /assets/ carry a hash of their content. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Always revalidated (HTML names the current hashed assets). */
export const REVALIDATE = 'no-cache';
/** Per-request answers. */
export const NO_STORE = 'no-store';
