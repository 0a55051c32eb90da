import { describe, expect, it } from '@jest/globals';
import { nameCameras, ConfigurationError, parseCameraList, Sender, type CameraSpec } from '../src/index.js';

const BY_PATH = '/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0';
const BY_ID = '/dev/v4l/by-id/usb-Foo_Camera_123-video-index0';
const names = (specs: readonly { id: string; label: string }[]): { id: string; label: string }[] =>
  specs.map(({ id, label }) => ({ id, label }));

describe('parseCameraList', () => {
  it.each<[string, CameraSpec[]]>([
    ['testpattern', [{ type: 'testpattern' }]],
    [
      ' testpattern:1280x720@30 , testpattern:640x480 ,testpattern:320x240@12.5',
      [
        { type: 'testpattern', width: 1280, height: 720, fps: 30 },
        { type: 'testpattern', width: 640, height: 480 },
        { type: 'testpattern', width: 320, height: 240, fps: 12.5 },
      ],
    ],
    [
      '/dev/video0:1280x720@30,/dev/video2:640x480@15,testpattern',
      [
        { type: 'v4l2', device: '/dev/video0', width: 1280, height: 720, fps: 30 },
        { type: 'v4l2', device: '/dev/video2', width: 640, height: 480, fps: 15 },
        { type: 'testpattern' },
      ],
    ],
    // The busy (camera-like) test pattern: same grammar, its own source name.
    [
      'busy, busy:640x480@15, cam=busy:320x240, busy=testpattern',
      [
        { type: 'testpattern', pattern: 'busy' },
        { type: 'testpattern', pattern: 'busy', width: 640, height: 480, fps: 15 },
        { type: 'testpattern', id: 'cam', pattern: 'busy', width: 320, height: 240 },
        { type: 'testpattern', id: 'busy' },
      ],
    ],
    // by-path names hold colons of their own: only a trailing WIDTHxHEIGHT[@FPS] is a mode.
    [BY_PATH, [{ type: 'v4l2', device: BY_PATH }]],
    [`${BY_PATH}:640x480@15`, [{ type: 'v4l2', device: BY_PATH, width: 640, height: 480, fps: 15 }]],
    [BY_ID, [{ type: 'v4l2', device: BY_ID }]],
    [`${BY_ID}:1280x720`, [{ type: 'v4l2', device: BY_ID, width: 1280, height: 720 }]],
    // Explicit ids: ID=SOURCE.
    [
      `front=${BY_PATH}:640x480@15, rear=/dev/video2, sim=testpattern:320x240`,
      [
        { type: 'v4l2', id: 'front', device: BY_PATH, width: 640, height: 480, fps: 15 },
        { type: 'v4l2', id: 'rear', device: '/dev/video2' },
        { type: 'testpattern', id: 'sim', width: 320, height: 240 },
      ],
    ],
  ])('parses %j', (list, specs) => {
    expect(parseCameraList(list)).toEqual(specs);
  });

  it.each([
    ['', /empty/],
    [',,', /empty/],
    ['webcam', /unknown camera "webcam".*testpattern.*busy.*\/dev\//],
    ['busy:1280', /mode "1280" is not WIDTHxHEIGHT/],
    ['busy:', /mode "" is not WIDTHxHEIGHT/],
    ['busybox', /unknown camera "busybox"/],
    ['testpattern:1280', /mode "1280" is not WIDTHxHEIGHT/],
    ['testpattern:1280x720@', /not WIDTHxHEIGHT/],
    ['testpattern:axb', /not WIDTHxHEIGHT/],
    ['/dev/video0:1280', /mode "1280" is not WIDTHxHEIGHT/],
    [`${BY_PATH}:640x`, /mode "640x" is not WIDTHxHEIGHT/],
    ['/dev/video0:1280x720,/dev/video0', /camera "\/dev\/video0" is listed twice/],
    ['Front=/dev/video0', /camera id "Front".*lowercase/],
    ['=/dev/video0', /camera id "".*lowercase/],
    [`a-very-long-camera-id-over-32-chars=${BY_ID}`, /camera id "a-very-long-camera-id-over-32-chars".*32/],
    ['cam=/dev/video0,cam=/dev/video2', /camera id "cam" is used twice/],
    ['cam=', /unknown camera ""/],
  ])('rejects %j with a clear message', (list, message) => {
    expect(() => parseCameraList(list)).toThrow(ConfigurationError);
    expect(() => parseCameraList(list)).toThrow(message);
  });
});

describe('nameCameras', () => {
  it.each<[string, CameraSpec[], { id: string; label: string }[]]>([
    ['one test pattern', [{ type: 'testpattern' }], [{ id: 'testpattern', label: 'Test pattern' }]],
    [
      'the only test pattern after a device',
      [{ type: 'v4l2', device: '/dev/video0' }, { type: 'testpattern' }],
      [
        { id: 'video0', label: '/dev/video0' },
        { id: 'testpattern', label: 'Test pattern' },
      ],
    ],
    [
      'several test patterns, numbered alike in id and label',
      [{ type: 'testpattern' }, { type: 'testpattern' }, { type: 'testpattern' }],
      [
        { id: 'testpattern', label: 'Test pattern' },
        { id: 'testpattern-2', label: 'Test pattern 2' },
        { id: 'testpattern-3', label: 'Test pattern 3' },
      ],
    ],
    [
      'busy test patterns beside bars: their own id and label, numbered alike',
      [
        { type: 'testpattern', pattern: 'busy' },
        { type: 'testpattern' },
        { type: 'testpattern', pattern: 'busy' },
        { type: 'testpattern', pattern: 'bars' },
      ],
      [
        { id: 'busy', label: 'Busy test pattern' },
        { id: 'testpattern', label: 'Test pattern' },
        { id: 'busy-2', label: 'Busy test pattern 2' },
        { id: 'testpattern-2', label: 'Test pattern 2' },
      ],
    ],
    [
      'stable links: the by-id name, the by-path port',
      [
        { type: 'v4l2', device: BY_ID },
        { type: 'v4l2', device: BY_PATH },
        { type: 'v4l2', device: '/dev/v4l/by-id/usb-Foo_Camera_123-video-index1' },
      ],
      [
        { id: 'foo_camera_123', label: BY_ID },
        { id: 'pci-0000-00-14-0-usb-0-1-1-0', label: BY_PATH },
        { id: 'foo_camera_123-1', label: '/dev/v4l/by-id/usb-Foo_Camera_123-video-index1' },
      ],
    ],
    [
      'explicit ids and labels are kept, derived ids avoid them',
      [
        { type: 'testpattern', id: 'video0', label: 'Sim' },
        { type: 'v4l2', device: '/dev/video0' },
        { type: 'v4l2', device: '/dev/v4l/by-id/usb-video0-video-index0' },
      ],
      [
        { id: 'video0', label: 'Sim' },
        { id: 'video0-2', label: '/dev/video0' },
        { id: 'video0-3', label: '/dev/v4l/by-id/usb-video0-video-index0' },
      ],
    ],
  ])('%s', (_, specs, expected) => {
    expect(names(nameCameras(specs))).toEqual(expected);
  });

  it('derives valid ids of at most 32 characters from long names, distinct per device', () => {
    const long = [
      '/dev/v4l/by-id/usb-Some_Vendor_Inc._Very_Long_Camera_Model_Name_SN0123456789-video-index0',
      '/dev/v4l/by-id/usb-Some_Vendor_Inc._Very_Long_Camera_Model_Name_SN0123456780-video-index0',
      '/dev/v4l/by-path/platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.2.3:1.0-video-index0',
    ];
    const ids = nameCameras(long.map((device) => ({ type: 'v4l2', device }))).map(({ id }) => id);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9][a-z0-9_-]{0,31}$/);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toMatch(/^some_vendor_inc/);
  });
});

describe('one naming for CAMERAS and the API', () => {
  const named = (sender: Sender): { id: string; label: string }[] =>
    [...sender.cameras.values()].map(({ info }) => ({ id: info.id, label: info.label }));

  it.each([
    ['/dev/video0,testpattern'],
    ['testpattern,testpattern:640x480'],
    [`${BY_ID},${BY_PATH}:640x480@15,testpattern`],
    [`front=${BY_ID},testpattern`],
    ['busy,testpattern,busy:640x480'],
  ])('%j gives the same ids and labels parsed or given as specs', async (list) => {
    const fromList = new Sender({ cameras: parseCameraList(list) });
    const specs: CameraSpec[] = list.split(',').map((entry) => {
      const [, id, source = ''] = /^(?:([^=]+)=)?(.*)$/.exec(entry)!;
      const path = source.startsWith('/dev/') ? source.replace(/:\d+x\d+(@\d+)?$/, '') : undefined;
      const spec: CameraSpec =
        path !== undefined
          ? { type: 'v4l2', device: path }
          : source.startsWith('busy')
            ? { type: 'testpattern', pattern: 'busy' }
            : { type: 'testpattern' };
      return id === undefined ? spec : { ...spec, id };
    });
    const fromApi = new Sender({ cameras: specs });
    try {
      expect(named(fromList)).toEqual(named(fromApi));
      expect(named(fromList)).toEqual(names(nameCameras(specs)));
      if (list.startsWith('busy')) {
        expect(named(fromList).map(({ id }) => id)).toEqual(['busy', 'testpattern', 'busy-2']);
      }
    } finally {
      await Promise.all([fromList.close(), fromApi.close()]);
    }
  });
});
