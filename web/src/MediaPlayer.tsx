import { useState } from 'preact/hooks';
import type { Attachment } from './api';
import { formatSize, type FileLoader } from './attachments';
import './hostSite.css';

/** Audio and video the browser can play inline; anything else stays a download link. */
const PLAYABLE = /^(audio\/(mpeg|mp4|aac|ogg|opus|wav|x-wav|vnd\.wave|webm|flac)|video\/(mp4|webm|ogg))$/;

export const isPlayable = (a: Attachment): boolean => PLAYABLE.test(a.type) && !a.removed;

/**
 * An inline player for an audio or video attachment of this gateway. The file needs the session token,
 * which a <video src> cannot send, so "Play" fetches it once and plays it from a blob: URL (media
 * elements run no script, unlike a blob document); nothing is downloaded before the click.
 */
export function MediaPlayer({ file: a, loader }: { file: Attachment; loader: FileLoader }) {
  const [src, setSrc] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const video = a.type.startsWith('video/');
  const size = formatSize(a.size);
  if (src)
    return video ? (
      <video class="media-player" src={src} controls autoplay playsInline aria-label={a.name} />
    ) : (
      <audio class="media-player" src={src} controls autoplay aria-label={a.name} />
    );
  const play = () => {
    setBusy(true);
    setProblem(null);
    loader.media(a).then(setSrc, (err: Error) => {
      setBusy(false);
      setProblem(`could not load ${a.name}: ${err.message}`);
    });
  };
  return (
    <>
      <button type="button" class="media-play" disabled={busy} onClick={play}>
        {busy ? 'Loading…' : `▶ Play ${a.name}`}
        {size && <span class="file-size"> {size}</span>}
      </button>
      {problem && (
        <span class="file-error" role="alert">
          {problem}
        </span>
      )}
    </>
  );
}
