/**
 * The soak's photo folders and what it does to them: seeded random adds, edits, renames, moves
 * between folders, copies, deletions, broken files, photos written slowly in pieces, a folder
 * renamed away (an unplugged drive) and back. It remembers which files it wrote broken, so the
 * checks know what must end 'failed' and what must end 'indexed'.
 */
import { mkdir, open, readdir, rename, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../main/core/onnx/random.ts';
import { isPhotoPath } from '../../main/core/photo-formats.ts';
import { solidPixels } from '../fixtures/photos.ts';

export interface SoakFolder {
  name: string;
  /** Where it is plugged in (its library path). */
  path: string;
  /** Where it goes while unplugged. */
  awayPath: string;
  unplugged: boolean;
}

export type OpName = 'add' | 'edit' | 'rename' | 'move' | 'copy' | 'delete' | 'broken' | 'fix' | 'slow' | 'rename folder';

const WEIGHTS: [OpName, number][] = [
  ['add', 22],
  ['edit', 14],
  ['rename', 12],
  ['move', 12],
  ['copy', 5],
  ['delete', 12],
  ['broken', 3],
  ['fix', 3],
  ['slow', 8],
  ['rename folder', 2],
];

export class World {
  readonly rand: () => number;
  readonly folders: SoakFolder[];
  /** Files the soak wrote, by current path, and whether it wrote them broken. */
  readonly files = new Map<string, 'good' | 'bad'>();
  readonly counts = new Map<OpName | 'burst', number>();
  /** Slow writes in progress (partial files on disk). */
  private slow = new Set<Promise<void>>();
  /** Paths being written slowly: no other operation touches them until they are complete. */
  private writing = new Set<string>();
  private serial = 0;

  constructor(
    readonly root: string,
    seed: number,
    readonly limits = { min: 30, max: 90 },
  ) {
    this.rand = mulberry32(seed);
    this.folders = ['Camera', 'Phone', 'Drive'].map((name) => ({
      name,
      path: join(root, name),
      awayPath: join(root, `${name}.unplugged`),
      unplugged: false,
    }));
  }

  /** The removable one: renamed away and back, as an unplugged drive looks to the app. */
  get drive(): SoakFolder {
    return this.folders[2]!;
  }

  async create(perFolder: number): Promise<void> {
    for (const f of this.folders) {
      for (const sub of ['', '2024', '2025']) await mkdir(join(f.path, sub), { recursive: true });
      for (let i = 0; i < perFolder; i++) await this.writeGood(this.newPath(f));
    }
    await this.writeBad(this.newPath(this.folders[0]!));
    await this.writeBad(this.newPath(this.folders[1]!));
  }

  /** Photo files on disk under the plugged-in folders (what the library must hold). */
  async onDisk(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && isPhotoPath(p)) out.push(p);
      }
    };
    for (const f of this.folders) if (!f.unplugged) await walk(f.path);
    return out.sort();
  }

  kindOf(path: string): 'good' | 'bad' {
    return this.files.get(path) ?? 'good';
  }

  /** Runs one seeded random operation; returns its name. Slow writes go on in the background. */
  async step(): Promise<OpName> {
    const n = this.live().length;
    let op = this.pick();
    if (n >= this.limits.max && (op === 'add' || op === 'copy' || op === 'slow')) op = 'delete';
    if (n <= this.limits.min && op === 'delete') op = 'add';
    if (op === 'slow' && this.slow.size >= 2) op = 'add';
    await this.run(op);
    this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
    return op;
  }

  /** Many new photos at once (the app is then killed while it indexes them). */
  async burst(count: number): Promise<void> {
    const f = this.plugged()[0]!;
    for (let i = 0; i < count; i++) await this.writeGood(this.newPath(f));
    this.counts.set('burst', (this.counts.get('burst') ?? 0) + count);
  }

  /** Resolves when every slow write has finished (before a check: partial files are the app's business until then). */
  async writesFinished(): Promise<void> {
    while (this.slow.size) await Promise.all([...this.slow]);
  }

  async unplug(f: SoakFolder): Promise<void> {
    await this.writesFinished();
    await rename(f.path, f.awayPath);
    this.rekey(f.path, f.awayPath);
    f.unplugged = true;
  }

  async plugIn(f: SoakFolder): Promise<void> {
    await rename(f.awayPath, f.path);
    this.rekey(f.awayPath, f.path);
    f.unplugged = false;
  }

  // -------------------------------------------------------------------------------------------

  private pick(): OpName {
    const total = WEIGHTS.reduce((a, [, w]) => a + w, 0);
    let r = this.rand() * total;
    for (const [op, w] of WEIGHTS) if ((r -= w) < 0) return op;
    return 'add';
  }

  private plugged(): SoakFolder[] {
    return this.folders.filter((f) => !f.unplugged);
  }

  /** Files in plugged-in folders, or anywhere when `everywhere` (a drive away can still be written to elsewhere). */
  private live(everywhere = false): string[] {
    const roots = (everywhere ? this.folders : this.plugged()).map((f) => (f.unplugged ? f.awayPath : f.path));
    return [...this.files.keys()].filter((p) => !this.writing.has(p) && roots.some((r) => p.startsWith(r + '/'))).sort();
  }

  private choose<T>(list: T[]): T | undefined {
    return list.length ? list[Math.floor(this.rand() * list.length)] : undefined;
  }

  private newPath(f: SoakFolder, ext = '.jpg', sub = this.choose(['', '2024', '2025'])!): string {
    const root = f.unplugged ? f.awayPath : f.path;
    return join(root, sub, `p${String(++this.serial).padStart(5, '0')}${ext}`);
  }

  private colour(): [number, number, number] {
    return [0, 0, 0].map(() => Math.floor(this.rand() * 256)) as [number, number, number];
  }

  private async jpeg(width = 32, height = 24): Promise<Buffer> {
    return sharp(solidPixels(this.colour(), width, height, 12), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  }

  private async writeGood(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, await this.jpeg());
    this.files.set(path, 'good');
  }

  /** A JPEG header followed by garbage: looks like a photo, decodes to nothing. */
  private async writeBad(path: string): Promise<void> {
    const junk = Buffer.alloc(600);
    for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(this.rand() * 256);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]), junk]));
    this.files.set(path, 'bad');
  }

  private async run(op: OpName): Promise<void> {
    const folder = this.choose(this.plugged())!;
    const files = this.live();
    const any = this.choose(files);
    switch (op) {
      case 'add':
        return this.writeGood(this.newPath(folder));
      case 'broken':
        return this.writeBad(this.newPath(folder));
      case 'edit': {
        // Photos on the unplugged drive are edited too (the drive is in use elsewhere).
        const p = this.choose(this.live(true).filter((x) => this.files.get(x) === 'good'));
        return p ? this.writeGood(p) : undefined;
      }
      case 'fix': {
        const p = this.choose(files.filter((x) => this.files.get(x) === 'bad'));
        return p ? this.writeGood(p) : undefined;
      }
      case 'rename':
        if (!any) return;
        return this.moveFile(any, join(dirname(any), `r${++this.serial}-${basename(any)}`));
      case 'move':
        if (!any) return;
        return this.moveFile(any, this.newPath(folder));
      case 'copy': {
        const p = this.choose(files.filter((x) => this.files.get(x) === 'good'));
        if (!p) return;
        const to = this.newPath(folder);
        await mkdir(dirname(to), { recursive: true }); // its subfolder may have been renamed away
        await copyFile(p, to);
        this.files.set(to, 'good');
        return;
      }
      case 'delete':
        if (!any) return;
        await rm(any, { force: true });
        this.files.delete(any);
        return;
      case 'slow':
        // In the folder's root: 'rename folder' renames subfolders only, so the path stays valid.
        return this.startSlowWrite(this.newPath(folder, '.jpg', ''));
      case 'rename folder': {
        const dirs = (await readdir(folder.path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(folder.path, e.name));
        const d = this.choose(dirs);
        if (!d) return;
        const to = join(folder.path, `${basename(d).split('-')[0]}-${++this.serial}`);
        await rename(d, to);
        this.rekey(d, to);
        return;
      }
    }
  }

  private async moveFile(from: string, to: string): Promise<void> {
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
    this.files.set(to, this.files.get(from) ?? 'good');
    this.files.delete(from);
  }

  /**
   * A photo written in 4 pieces with pauses of 0.2–1.6 s: longer than the watcher's stability
   * time, so the app sees partial files. It must never keep a half photo (indexed or failed)
   * once the file is complete.
   */
  private startSlowWrite(path: string): void {
    // Drawn now, not inside the job: the seeded sequence must not depend on timing.
    const rgb = this.colour();
    const pauses = [0, 1, 2, 3].map(() => 200 + Math.floor(this.rand() * 1400));
    this.files.set(path, 'good');
    this.writing.add(path);
    const job = (async () => {
      const data = await sharp(solidPixels(rgb, 160, 120, 40), { raw: { width: 160, height: 120, channels: 3 } })
        .jpeg({ quality: 92 })
        .toBuffer();
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(path, 'w');
      try {
        const piece = Math.ceil(data.length / 4);
        for (let i = 0; i < 4; i++) {
          await fh.write(data, i * piece, Math.min(piece, data.length - i * piece));
          await fh.sync();
          await new Promise((r) => setTimeout(r, pauses[i]));
        }
      } finally {
        await fh.close();
        this.writing.delete(path);
      }
    })();
    this.slow.add(job);
    void job.finally(() => this.slow.delete(job));
  }

  private rekey(from: string, to: string): void {
    for (const [p, k] of [...this.files]) {
      if (p !== from && !p.startsWith(from + '/')) continue;
      this.files.delete(p);
      this.files.set(join(to, relative(from, p)), k);
    }
  }
}

/** Whether a path still exists (a file the soak deleted may linger in no list). */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
