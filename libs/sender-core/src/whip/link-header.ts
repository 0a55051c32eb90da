/**
 * The `Link` header of a WHIP response (RFC 9725 §4.6): each `rel="ice-server"` entry is a STUN or
 * TURN server for the publisher's ICE agent, TURN ones with `username` and `credential`
 * parameters. Parsing never throws: entries that are not ice servers, or are malformed, are skipped.
 *
 *     Link: <stun:stun.example.net>; rel="ice-server"
 *     Link: <turn:turn.example.net?transport=udp>; rel="ice-server"; username="user";
 *           credential="myPassword"; credential-type="password"
 */
import type { RTCIceServer } from 'werift';

/** Splits on commas outside `<…>` and quoted strings (several links may share one header). */
function splitLinks(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inUri = false;
  let inQuote = false;
  for (let index = 0; index < header.length; index++) {
    const char = header[index] as string;
    if (inQuote) {
      if (char === '\\' && index + 1 < header.length) {
        current += char + (header[index + 1] as string);
        index += 1;
        continue;
      }
      if (char === '"') inQuote = false;
    } else if (char === '"') inQuote = true;
    else if (char === '<') inUri = true;
    else if (char === '>') inUri = false;
    else if (char === ',' && !inUri) {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

/** `key=value` or `key="quoted value"` parameters after the `<uri>`. */
function parseParameters(text: string): Map<string, string> {
  const parameters = new Map<string, string>();
  const pattern = /;\s*([A-Za-z0-9!#$&+.^_`|~-]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*)))?/g;
  for (const match of text.matchAll(pattern)) {
    const key = (match[1] as string).toLowerCase();
    const value = match[2] === undefined ? (match[3] ?? '') : match[2].replace(/\\(.)/g, '$1');
    if (!parameters.has(key)) parameters.set(key, value);
  }
  return parameters;
}

/**
 * The ICE servers announced in `Link` header values (one value per header line, or one value with
 * comma-separated links), for werift's `iceServers`. Only `stun:`, `stuns:`, `turn:` and `turns:`
 * URIs with `rel="ice-server"` count.
 */
export function parseIceServerLinks(headers: readonly string[]): RTCIceServer[] {
  const servers: RTCIceServer[] = [];
  for (const link of headers.flatMap(splitLinks)) {
    const uri = /^<([^>]*)>/.exec(link);
    if (uri === null) continue;
    const urls = (uri[1] as string).trim();
    if (!/^(stuns?|turns?):[^\s]+$/i.test(urls)) continue;
    const parameters = parseParameters(link.slice(uri[0].length));
    const rel = parameters.get('rel')?.toLowerCase().split(/\s+/) ?? [];
    if (!rel.includes('ice-server')) continue;
    const username = parameters.get('username');
    const credential = parameters.get('credential');
    servers.push({
      urls,
      ...(username === undefined ? {} : { username }),
      ...(credential === undefined ? {} : { credential }),
    });
  }
  return servers;
}
