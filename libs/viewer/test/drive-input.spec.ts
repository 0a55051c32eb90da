import { describe, expect, it } from '@jest/globals';
import { DriveInput } from '../src/client/drive.js';

describe('DriveInput (keys → Twist)', () => {
  it('maps arrows and WASD to forward speed and turn rate, ROS-style (left is positive z)', () => {
    const input = new DriveInput();
    expect(input.twist()).toEqual({ linear: { x: 0 }, angular: { z: 0 } });
    input.keyDown('ArrowUp');
    expect(input.twist()).toEqual({ linear: { x: 1 }, angular: { z: 0 } });
    input.keyDown('a');
    expect(input.twist()).toEqual({ linear: { x: 1 }, angular: { z: 1 } });
    input.keyUp('ArrowUp');
    input.keyDown('D'); // caps lock: the same key
    expect(input.twist()).toEqual({ linear: { x: 0 }, angular: { z: 0 } }); // left and right cancel
    input.keyUp('a');
    expect(input.twist()).toEqual({ linear: { x: 0 }, angular: { z: -1 } });
    input.keyDown('s');
    expect(input.twist().linear.x).toBe(-1);
  });

  it('never exceeds ±1 and forgets held keys when the window loses focus', () => {
    const input = new DriveInput();
    input.keyDown('ArrowUp');
    input.keyDown('w');
    expect(input.twist().linear.x).toBe(1);
    input.clear();
    expect(input.twist()).toEqual({ linear: { x: 0 }, angular: { z: 0 } });
  });

  it('knows which keys drive', () => {
    for (const key of ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'w', 'A', 's', 'd']) {
      expect(DriveInput.isDriveKey(key)).toBe(true);
    }
    for (const key of ['Enter', ' ', 'Escape', 'q', 'Tab']) expect(DriveInput.isDriveKey(key)).toBe(false);
  });
});
