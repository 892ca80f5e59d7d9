// The check-in desk's camera: getUserMedia with a Chinese message for every way it can fail, and a frame
// captured from the <video> to a canvas and encoded as JPEG (what POST …/check-in takes).

export class CameraError extends Error {
  constructor(message: string, readonly code: string) {
    super(message)
    this.name = 'CameraError'
  }
}

/** The Chinese sentence for a getUserMedia failure (a DOMException's name) or a missing API. */
export function cameraErrorText(e: unknown): string {
  const name = e instanceof CameraError ? e.code : e instanceof Error || e instanceof DOMException ? e.name : ''
  switch (name) {
    case 'unsupported':
      return '此浏览器无法使用摄像头：请使用新版 Chrome、Edge 或 Firefox，并通过 HTTPS 或本机地址打开本页'
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return '摄像头权限被拒绝：请在浏览器地址栏左侧的网站设置中允许使用摄像头，然后点击“打开摄像头”重试'
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return '未检测到摄像头：请连接摄像头后点击“打开摄像头”重试'
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return '摄像头无法启动：可能正被其他程序占用，请关闭其他使用摄像头的程序后重试'
    case 'no_frame':
      return '摄像头尚未出画面：请稍候再拍照'
    default:
      return '无法打开摄像头：请检查摄像头连接和浏览器权限后重试'
  }
}

/** Open the camera (the front one where there is a choice) and show it in `video`. */
export async function openCamera(video: HTMLVideoElement): Promise<MediaStream> {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices?.getUserMedia) {
    throw new CameraError('unsupported', 'unsupported')
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: 'user' },
    audio: false,
  })
  video.srcObject = stream
  video.muted = true
  await video.play().catch(() => undefined) // autoplay of a muted stream; a refusal leaves the still frame
  return stream
}

export function closeCamera(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop()
}

/** The current frame of `video` as a JPEG blob (via a canvas of the video's own size). */
export function captureFrame(video: HTMLVideoElement, canvas: HTMLCanvasElement, quality = 0.92): Promise<Blob> {
  const width = video.videoWidth
  const height = video.videoHeight
  if (!width || !height) return Promise.reject(new CameraError('no_frame', 'no_frame'))
  canvas.width = width
  canvas.height = height
  const context = canvas.getContext('2d')
  if (!context) return Promise.reject(new CameraError('unsupported', 'unsupported'))
  context.drawImage(video, 0, 0, width, height)
  return new Promise<Blob>((resolve, reject) => {
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new CameraError('no_frame', 'no_frame'))),
      'image/jpeg',
      quality,
    )
  })
}
