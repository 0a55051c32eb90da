/**
 * A camera-like I420 frame for encoder benchmarks: a moving gradient, a moving square and mild
 * sensor-like noise, so the encoder works about as hard as on a real camera (the test pattern's
 * flat bars compress far more easily). Frame `i` of a sequence; deterministic.
 */
export function cameraLikeFrame(w, h, i) {
  const buf = Buffer.alloc((w * h * 3) / 2);
  let seed = (i * 2654435761 + 1) >>> 0 || 1;
  const sx = (i * 9) % (w - 128);
  const sy = (i * 5) % (h - 128);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 40 + (((((x + i * 6) * 150) / w + (y * 30) / h) | 0) % 170);
      if (x >= sx && x < sx + 128 && y >= sy && y < sy + 128) v = 220 - ((x - sx) >> 1);
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      v += ((seed >>> 0) % 9) - 4;
      buf[y * w + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  buf.fill(128, w * h, w * h + (w * h) / 4);
  buf.fill(140, w * h + (w * h) / 4);
  return buf;
}
