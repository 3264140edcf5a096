import { useEffect, useState } from 'preact/hooks';
import type { Attachment } from './api';
import { formatSize, previewUrl, type FileLoader } from './attachments';
import { isPlayable, MediaPlayer } from './MediaPlayer';

/**
 * A message's files: images as previews that open the full file in a new tab, audio and video as inline
 * players, others as download links.
 */
export function AttachmentList({ files, loader }: { files: readonly Attachment[]; loader: FileLoader }) {
  return (
    <ul class="files" aria-label={files.length === 1 ? 'Attachment' : `${files.length} attachments`}>
      {files.map((a) => (
        <li key={a.url}>
          <AttachmentItem file={a} loader={loader} />
        </li>
      ))}
    </ul>
  );
}

function AttachmentItem({ file: a, loader }: { file: Attachment; loader: FileLoader }) {
  const own = loader.owns(a.url);
  const preview = own ? previewUrl(a) : undefined;
  const [src, setSrc] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (!preview) return undefined;
    let live = true;
    loader.preview(preview).then(
      (url) => {
        if (live) setSrc(url);
      },
      (err: Error) => {
        if (live) setProblem(err.message);
      },
    );
    return () => {
      live = false;
    };
  }, [preview]);

  if (a.removed)
    return (
      <span class="file file-removed" dir="auto">
        {a.name} (removed)
      </span>
    );
  if (own && isPlayable(a)) return <MediaPlayer file={a} loader={loader} />;
  const size = formatSize(a.size);
  // Our files need the session token, so a click fetches them; another host's are plain links.
  const open = (e: MouseEvent) => {
    if (!own) return;
    e.preventDefault();
    setProblem(null);
    loader.open(a).catch((err: Error) => setProblem(`could not open ${a.name}: ${err.message}`));
  };
  const error = problem && (
    <span class="file-error" role="alert">
      {problem}
    </span>
  );
  if (preview && !(problem && !src)) {
    return (
      <>
        <a
          class="file-image"
          href={a.url}
          target="_blank"
          rel="noopener noreferrer"
          onClick={open}
          aria-label={`${a.name}${size ? `, ${size}` : ''}: open in a new tab`}
          title={a.name}
        >
          {src ? <img src={src} alt={a.name} /> : <span class="file-loading">Loading image…</span>}
        </a>
        {error}
      </>
    );
  }
  return (
    <>
      <a
        class="file"
        href={a.url}
        target="_blank"
        rel="noopener noreferrer"
        onClick={open}
        download={own ? a.name : undefined}
        aria-label={`${own ? 'Download' : 'Open'} ${a.name}${size ? `, ${size}` : ''}`}
      >
        <FileIcon />
        <span class="file-name" dir="auto">
          {a.name}
        </span>
        {size && <span class="file-size">{size}</span>}
      </a>
      {error}
    </>
  );
}

function FileIcon() {
  return (
    <svg
      width="18"
      height="18"
      viewBox="0 0 24 24"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d="M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z" />
      <path d="M14 3v6h6" />
    </svg>
  );
}
