// A werift viewer in a process of its own, so a test can freeze it (SIGSTOP) like a laptop whose
// lid closed: its sockets stay open but nothing is sent any more. Run with plain Node (type
// stripping): node viewer-process.ts <signaling url> <camera> <codec>
import { WeriftViewer } from './werift-viewer.ts';

const [url, camera, codec] = process.argv.slice(2);
const viewer = await WeriftViewer.connect(url ?? 'ws://127.0.0.1:8765');
await viewer.watch(await viewer.senderId(), [camera ?? 'testpattern'], codec === 'h264' ? 'h264' : 'vp8');
const waitForFrame = setInterval(() => {
  if ((viewer.tracks[0]?.frames.length ?? 0) > 0) {
    clearInterval(waitForFrame);
    process.stdout.write('playing\n');
  }
}, 20);
