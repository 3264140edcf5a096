import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type pg from 'pg';
import { BridgeError } from '../errors/BridgeError.js';
import { withTransaction } from '../store/db.js';
import type { AttachmentStore } from './AttachmentStore.js';
import type { FileStore } from './FileStore.js';
import type { MessageMaintenance } from '../messages/MessageLog.js';

const run = promisify(execFile);

export type CompressResult =
  | { compressed: true; type: string; size: number; originalSize: number }
  | { compressed: false; reason: string; size: number };

/**
 * Moodle chat_attachments' compress_attachment, for Parley: re-encodes a video (H.264 baseline, CRF 28,
 * AAC 128 kbit/s, faststart: plays everywhere, streams before it has fully arrived) or an audio file
 * (AAC in MP4) with ffmpeg when it is installed. The original stays in place until the new file has been
 * probed (same duration within a second) and found smaller; only then does the upload point to it.
 */
export class Compressor {
  constructor(
    private readonly deps: {
      db: pg.Pool;
      store: AttachmentStore;
      files: FileStore;
      messages: Pick<MessageMaintenance, 'patchAttachments'>;
      ffmpeg?: string;
      ffprobe?: string;
    },
  ) {}

  async available(): Promise<boolean> {
    return run(this.deps.ffmpeg ?? 'ffmpeg', ['-version']).then(
      () => true,
      () => false,
    );
  }

  async compress(id: string): Promise<CompressResult> {
    const file = await this.deps.store.get(id);
    if (!file || file.removedAt) throw new BridgeError('NOT_FOUND', 'no such file');
    const kind = file.type.startsWith('video/')
      ? 'video'
      : file.type.startsWith('audio/')
        ? 'audio'
        : undefined;
    if (!kind)
      throw new BridgeError('CONFLICT', `only video and audio files can be compressed, not ${file.type}`);
    if (!(await this.available()))
      throw new BridgeError('CONFLICT', 'ffmpeg is not installed on this gateway');
    const source = this.deps.files.pathOf(file.sha256);
    const out = `${this.deps.files.newTmpPath()}.mp4`;
    const codec =
      kind === 'video'
        ? [
            '-c:v',
            'libx264',
            '-crf',
            '28',
            '-profile:v',
            'baseline',
            '-level',
            '3.0',
            '-pix_fmt',
            'yuv420p',
            '-c:a',
            'aac',
            '-b:a',
            '128k',
            '-ac',
            '2',
          ]
        : ['-vn', '-c:a', 'aac', '-b:a', '96k'];
    try {
      await run(
        this.deps.ffmpeg ?? 'ffmpeg',
        ['-nostdin', '-v', 'error', '-y', '-i', source, ...codec, '-movflags', '+faststart', out],
        { timeout: 600_000 },
      );
      const [before, after, size] = [
        await this.#duration(source),
        await this.#duration(out),
        (await stat(out)).size,
      ];
      if (after === undefined || (before !== undefined && Math.abs(before - after) > 1))
        return await this.#keep(file.id, out, file.size, 'the re-encoded file did not verify');
      if (size >= file.size)
        return await this.#keep(file.id, out, file.size, 'the re-encoded file is not smaller');
      const received = await this.deps.files.receive(createReadStream(out), Number.MAX_SAFE_INTEGER);
      await this.deps.files.discard(out);
      await this.deps.files.commit(received.tmp, received.sha256);
      const type = kind === 'video' ? 'video/mp4' : 'audio/mp4';
      await this.#pointTo(file.id, file.url, received.sha256, size, type);
      if (!(await this.deps.store.inUse(file.sha256))) await this.deps.files.remove(file.sha256);
      return { compressed: true, type, size, originalSize: file.size };
    } catch (err) {
      await this.deps.files.discard(out);
      if (err instanceof BridgeError) throw err;
      await this.deps.store.compressTried(file.id);
      return {
        compressed: false,
        reason: `ffmpeg failed: ${(err as Error).message.split('\n')[0]}`,
        size: file.size,
      };
    }
  }

  async #keep(id: string, out: string, size: number, reason: string): Promise<CompressResult> {
    await this.deps.files.discard(out);
    await this.deps.store.compressTried(id);
    return { compressed: false, reason, size };
  }

  async #duration(path: string): Promise<number | undefined> {
    const { stdout } = await run(this.deps.ffprobe ?? 'ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      path,
    ]).catch(() => ({ stdout: '' }));
    const d = Number.parseFloat(stdout.trim());
    return Number.isFinite(d) ? d : undefined;
  }

  /** The upload and every stored message that carries it now describe the compressed file. */
  async #pointTo(id: string, url: string, sha256: string, size: number, type: string): Promise<void> {
    await withTransaction(this.deps.db, async (tx) => {
      await tx.query(
        'UPDATE attachments SET sha256 = $2, size = $3, type = $4, compress_tried_at = now() WHERE id = $1',
        [id, sha256, size, type],
      );
      await this.deps.messages.patchAttachments([url], { size, type }, [], tx);
    });
  }
}
