import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';

/** The interface and address given to the guest (a private address on a dummy link). */
export const GUEST_INTERFACE = 'robocam0';
export const GUEST_ADDRESS = '10.213.0.1';

/**
 * Gives the v4l2vm guest an interface that WebRTC can use, and returns its IPv4 address.
 *
 * The guest has no network device at all (qemu `-nodefaults`, no `-netdev`), only loopback, and
 * werift gathers no host candidates on loopback (Node marks its addresses `internal`): the viewer
 * would have no candidate to check from. As `../shared/netns/run-isolated.sh` does on the host with
 * a veth pair, the guest gets a non-loopback interface: a `dummy` link with a private address.
 * Packets to a local address are delivered through loopback, and there is nothing for them to
 * leave by anyway: media never leaves the guest.
 *
 * The guest's module tree holds only what v4l2vm itself loads, so `dummy.ko` is taken from the
 * Debian kernel package that `../shared/v4l2vm/build.sh` unpacked into its cache (the guest's
 * own kernel, same release).
 */
export function ensureGuestNetwork(): string {
  const present = nonInternalIpv4();
  if (present !== undefined) return present;
  const release = execFileSync('uname', ['-r']).toString().trim();
  const cache =
    process.env['V4L2VM_CACHE'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'robocam-v4l2vm');
  const module = [
    `/lib/modules/${release}/kernel/drivers/net/dummy.ko`,
    join(cache, 'kernel/lib/modules', release, 'kernel/drivers/net/dummy.ko'),
  ].find((path) => existsSync(path));
  if (module === undefined) {
    throw new Error(
      `no network interface but loopback, and no dummy.ko for kernel ${release} (looked in /lib/modules and ${cache}): cannot give WebRTC an address`,
    );
  }
  // numdummies=0: no automatic dummy0; the link is created with a name werift does not skip.
  if (!/^dummy /m.test(readFileSync('/proc/modules', 'utf8')))
    execFileSync('insmod', [module, 'numdummies=0']);
  execFileSync('ip', ['link', 'add', GUEST_INTERFACE, 'type', 'dummy']);
  execFileSync('ip', ['addr', 'add', `${GUEST_ADDRESS}/24`, 'dev', GUEST_INTERFACE]);
  execFileSync('ip', ['link', 'set', GUEST_INTERFACE, 'up']);
  const added = nonInternalIpv4();
  if (added === undefined)
    throw new Error(`${GUEST_INTERFACE} was created but Node does not see its address`);
  return added;
}

function nonInternalIpv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}
