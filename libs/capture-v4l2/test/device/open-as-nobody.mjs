// Opens a camera as uid/gid 65534 (nobody) and prints the error as JSON: root (the VM's user)
// bypasses device permissions, so the permission check needs another user. Uses the built package.
import { V4l2Camera } from '@robocam/capture-v4l2';

const device = process.argv[2] ?? '/dev/video0';
process.setgroups([]);
process.setgid(65534);
process.setuid(65534);
const camera = new V4l2Camera({ device, width: 640, height: 480 });
try {
  await camera.negotiate();
  console.log(JSON.stringify({ ok: true }));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
}
