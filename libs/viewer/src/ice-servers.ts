import { createHmac } from 'node:crypto';

/** One STUN/TURN server entry as the page passes it to `RTCPeerConnection` (`RTCIceServer`). */
export interface PageIceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/**
 * The ICE servers the viewer server hands to its pages. TURN needs credentials: either static
 * ones (`username`/`credential`, coturn's `lt-cred-mech` with a `user=` line), or short-lived ones
 * derived per request from a secret shared with the TURN server (`secret`, coturn's
 * `use-auth-secret` + `static-auth-secret`). Static credentials are readable by anyone who can load
 * the page; derived ones expire.
 */
export interface IceServerSettings {
  /** `stun:`, `turn:` and `turns:` URLs, e.g. `turn:turn.example.org:3478?transport=udp`. Required. */
  urls: readonly string[];
  /** Static TURN username. Ignored when `secret` is set. Default: none. */
  username?: string;
  /** Static TURN password. Ignored when `secret` is set. Default: none. */
  credential?: string;
  /** Shared secret for short-lived TURN credentials (coturn's `static-auth-secret`). Default: none. */
  secret?: string;
  /** Lifetime of derived credentials, in seconds. Default 86 400 (one day). */
  credentialTtlSec?: number;
  /** The name part of derived usernames (`<expiry>:<name>`), shown in the TURN server's logs. Default `robocam`. */
  credentialName?: string;
  /**
   * `relay` makes pages use only TURN relay candidates (to test a TURN deployment, or where direct
   * UDP must never be tried). Default `all`.
   */
  iceTransportPolicy?: 'all' | 'relay';
}

/**
 * Short-lived TURN credentials of the TURN REST API scheme (draft-uberti-behave-turn-rest-00)
 * that coturn's `use-auth-secret` checks: username `<expiry unix seconds>:<name>`, credential
 * base64(HMAC-SHA1(secret, username)). Valid until `nowMs / 1000 + ttlSec`.
 */
export function turnRestCredentials(
  secret: string,
  {
    ttlSec = 86_400,
    name = 'robocam',
    nowMs = Date.now(),
  }: { ttlSec?: number; name?: string; nowMs?: number } = {},
): { username: string; credential: string; expiresAt: number } {
  const expiresAt = Math.floor(nowMs / 1000) + Math.round(ttlSec);
  const username = `${expiresAt}:${name}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

/** The `iceServers` of one page load: the configured URLs with static or freshly derived credentials. */
export function pageIceServers(settings: IceServerSettings, nowMs = Date.now()): PageIceServer[] {
  if (settings.urls.length === 0) return [];
  const urls = [...settings.urls];
  if (settings.secret !== undefined) {
    const { username, credential } = turnRestCredentials(settings.secret, {
      nowMs,
      ...(settings.credentialTtlSec === undefined ? {} : { ttlSec: settings.credentialTtlSec }),
      ...(settings.credentialName === undefined ? {} : { name: settings.credentialName }),
    });
    return [{ urls, username, credential }];
  }
  return [
    {
      urls,
      ...(settings.username === undefined ? {} : { username: settings.username }),
      ...(settings.credential === undefined ? {} : { credential: settings.credential }),
    },
  ];
}
